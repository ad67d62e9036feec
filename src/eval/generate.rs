//! Generated evaluation contexts, reproducible from a seed: what `simulate --sample` and
//! `export --verify` evaluate.

use serde_json::Value;

use super::context::{self, Context, TARGETING_KEY};

/// How one attribute of a generated context is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Draw {
    /// One of these values, uniformly.
    OneOf(Vec<Value>),
    /// A fresh random id: a unit to bucket.
    Unique,
}

/// Draws contexts: a random targeting key and each attribute by its [`Draw`], every one
/// of them left out with probability `missing`. Context `i` of seed `s` depends on
/// nothing else, so contexts can be made in parallel, in any order, with the same result.
#[derive(Debug, Clone)]
pub struct ContextGenerator {
    attributes: Vec<(String, Draw)>,
    missing: f64,
}

impl ContextGenerator {
    /// `attributes` are dotted paths (`user.email` nests `email` in `user`); a
    /// `targetingKey` among them replaces the random one.
    pub fn new(attributes: Vec<(String, Draw)>, missing: f64) -> ContextGenerator {
        let mut attributes = attributes;
        if !attributes.iter().any(|(name, _)| name == TARGETING_KEY) {
            attributes.insert(0, (TARGETING_KEY.to_owned(), Draw::Unique));
        }
        ContextGenerator {
            attributes,
            missing: missing.clamp(0.0, 1.0),
        }
    }

    pub fn attributes(&self) -> &[(String, Draw)] {
        &self.attributes
    }

    /// Context number `index` of `seed`.
    pub fn context(&self, seed: u64, index: u64) -> Context {
        let mut rng = fastrand::Rng::with_seed(mix(seed, index));
        let mut context = Context::new();
        for (name, draw) in &self.attributes {
            if self.missing > 0.0 && rng.f64() < self.missing {
                continue;
            }
            let value = match draw {
                Draw::OneOf(values) if values.is_empty() => continue,
                Draw::OneOf(values) => values[rng.usize(..values.len())].clone(),
                Draw::Unique => Value::String(format!("{:016x}", rng.u64(..))),
            };
            if name.contains('.') {
                context::insert_path(&mut context, name, value);
            } else {
                context.insert(name.clone(), value);
            }
        }
        context
    }
}

/// SplitMix64 of the seed and index: independent streams for neighbouring indexes.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed
        .wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn generator(missing: f64) -> ContextGenerator {
        ContextGenerator::new(
            vec![
                (
                    "country".into(),
                    Draw::OneOf(vec![json!("SG"), json!("MY")]),
                ),
                ("user.id".into(), Draw::Unique),
            ],
            missing,
        )
    }

    #[test]
    fn contexts_depend_only_on_seed_and_index() {
        let generator = generator(0.0);
        assert_eq!(generator.context(7, 3), generator.context(7, 3));
        assert_ne!(generator.context(7, 3), generator.context(7, 4));
        assert_ne!(generator.context(7, 3), generator.context(8, 3));
        let ctx = generator.context(1, 0);
        assert!(ctx[TARGETING_KEY].as_str().is_some_and(|k| k.len() == 16));
        assert!(["SG", "MY"].contains(&ctx["country"].as_str().unwrap()));
        assert!(ctx["user"]["id"].is_string());
    }

    #[test]
    fn values_are_drawn_evenly_and_left_out_at_the_rate_asked() {
        let generator = generator(0.25);
        let contexts: Vec<Context> = (0..4000).map(|i| generator.context(42, i)).collect();
        let count = |f: &dyn Fn(&Context) -> bool| contexts.iter().filter(|c| f(c)).count();
        let without_key = count(&|c| !c.contains_key(TARGETING_KEY));
        assert!((800..1200).contains(&without_key), "{without_key}");
        let sg = count(&|c| c.get("country") == Some(&json!("SG")));
        let my = count(&|c| c.get("country") == Some(&json!("MY")));
        assert!(
            (1300..1700).contains(&sg) && (1300..1700).contains(&my),
            "{sg} {my}"
        );
    }

    #[test]
    fn a_given_targeting_key_draw_replaces_the_random_one() {
        let generator = ContextGenerator::new(
            vec![(TARGETING_KEY.into(), Draw::OneOf(vec![json!("u1")]))],
            0.0,
        );
        assert_eq!(generator.attributes().len(), 1);
        assert_eq!(generator.context(0, 0)[TARGETING_KEY], json!("u1"));
    }
}
