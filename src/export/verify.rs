//! `export --verify`: the exported flagd file against the engine, over generated contexts
//! that exercise every condition of the repository.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::eval::{Action, Context, ContextGenerator, Draw, FlagSet, TARGETING_KEY, Targeting};
use crate::model::condition::{Condition, Op, parse_semver};

/// How often a generated context leaves out an attribute (or the targeting key).
const MISSING: f64 = 0.2;

/// One (flag, context) on which the two disagree.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Difference {
    pub flag: String,
    pub context: Context,
    /// What the engine serves from the TOML flag.
    pub engine: Served,
    /// What the exported flagd definition serves.
    pub flagd: Served,
}

/// A variant and its value, as served; both null when no variant applies.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Served {
    pub variant: Option<String>,
    pub value: Option<Value>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Verification {
    pub contexts: u64,
    /// Evaluations compared: contexts × flags.
    pub evaluations: u64,
    /// How many evaluations differ.
    pub differing: u64,
    /// The first differences, at most the limit asked for.
    #[serde(rename = "differences")]
    pub first: Vec<Difference>,
}

/// Evaluates every flag of `engine` for `count` contexts generated from `seed` both in
/// the engine and in `exported`, comparing the variant and value served.
pub fn verify(
    engine: &FlagSet,
    exported: &FlagSet,
    count: u64,
    seed: u64,
    limit: usize,
) -> Verification {
    let generator = probe_generator(engine);
    let mut verification = Verification {
        contexts: count,
        evaluations: 0,
        differing: 0,
        first: Vec::new(),
    };
    for index in 0..count {
        let context = generator.context(seed, index);
        for flag in engine.flags() {
            verification.evaluations += 1;
            let ours = engine.evaluate(&flag.key, &context);
            let theirs = exported.evaluate(&flag.key, &context);
            if ours.variant == theirs.variant && ours.value == theirs.value {
                continue;
            }
            verification.differing += 1;
            if verification.first.len() < limit {
                let served = |variant: Option<&str>, value: Option<&Value>| Served {
                    variant: variant.map(str::to_owned),
                    value: value.cloned(),
                };
                verification.first.push(Difference {
                    flag: flag.key.clone(),
                    context: context.clone(),
                    engine: served(ours.variant, ours.value),
                    flagd: served(theirs.variant, theirs.value),
                });
            }
        }
    }
    verification
}

/// Contexts that probe every condition: each attribute a condition reads takes values
/// on either side of each operand, of other types, null, or is left out; attributes
/// rollouts bucket on take random ids; the targeting key is random or left out.
pub fn probe_generator(set: &FlagSet) -> ContextGenerator {
    let mut attributes: Vec<(String, Draw)> = Vec::new();
    let mut add = |name: &str, values: Vec<Value>| {
        let index = match attributes.iter().position(|(n, _)| n == name) {
            Some(index) => index,
            None => {
                let base = vec![Value::Null, json!("zz-other"), json!(0)];
                attributes.push((name.to_owned(), Draw::OneOf(base)));
                attributes.len() - 1
            }
        };
        if let Draw::OneOf(known) = &mut attributes[index].1 {
            for value in values {
                if !known.contains(&value) {
                    known.push(value);
                }
            }
        }
    };
    let mut bucketed = Vec::new();
    for flag in set.flags() {
        let Targeting::Native(native) = &flag.targeting else {
            continue;
        };
        for rule in &native.rules {
            for condition in &rule.conditions {
                add(&condition.attr, probes(condition));
            }
            if let Action::Rollout(rollout) = &rule.action
                && let Some(attr) = &rollout.bucket_by
            {
                bucketed.push(attr.clone());
            }
        }
    }
    for attr in bucketed {
        if attr != TARGETING_KEY && !attributes.iter().any(|(name, _)| *name == attr) {
            attributes.push((attr, Draw::Unique));
        }
    }
    ContextGenerator::new(attributes, MISSING)
}

/// Values around a condition's operand.
fn probes(condition: &Condition) -> Vec<Value> {
    let value = &condition.value;
    let text = value.as_str().unwrap_or_default();
    match condition.op {
        Op::Eq | Op::Ne => vec![value.clone(), loose_twin(value)],
        Op::In | Op::NotIn => value
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|item| [item.clone(), loose_twin(item)])
            .collect(),
        Op::StartsWith | Op::EndsWith | Op::Contains => vec![
            value.clone(),
            json!(format!("{text}-x")),
            json!(format!("x-{text}")),
            json!(format!("x-{text}-y")),
            json!(["x", text]),
            json!(42),
        ],
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
            let n = value.as_f64().unwrap_or_default();
            vec![
                value.clone(),
                json!(n - 1.0),
                json!(n + 1.0),
                json!(n + 0.5),
                json!(n.to_string()),
                json!(true),
                json!("not a number"),
            ]
        }
        _ => semver_probes(text),
    }
}

/// The same value in the other type that loose equality (`==`) equates with it.
fn loose_twin(value: &Value) -> Value {
    match value {
        Value::String(text) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| json!(text.to_uppercase()), Value::Number),
        other => json!(other.to_string()),
    }
}

/// Versions equal to, just above and just below a version, with prefixes, pre-releases
/// and junk.
fn semver_probes(text: &str) -> Vec<Value> {
    let mut probes = vec![
        json!(text),
        json!(format!("v{text}")),
        json!(format!("{text}-rc.1")),
        json!("not-a-version"),
    ];
    if let Some(v) = parse_semver(text) {
        let (major, minor, patch) = (v.major, v.minor, v.patch);
        let mut add = |major: u64, minor: u64, patch: u64| {
            probes.push(json!(format!("{major}.{minor}.{patch}")));
        };
        add(major, minor, patch + 1);
        add(major, minor + 1, 0);
        add(major + 1, 0, 0);
        if patch > 0 {
            add(major, minor, patch - 1);
        }
        if minor > 0 {
            add(major, minor - 1, 0);
        }
        if major > 0 {
            add(major - 1, 0, 0);
        }
        probes.push(json!(major));
    }
    probes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_straddle_each_operand() {
        let condition = |op, value| Condition {
            attr: "a".into(),
            op,
            value,
        };
        let lt = probes(&condition(Op::Lt, json!(30)));
        assert!(
            lt.contains(&json!(29.0)) && lt.contains(&json!(31.0)) && lt.contains(&json!("30"))
        );
        let eq = probes(&condition(Op::Eq, json!("30")));
        assert_eq!(eq, [json!("30"), json!(30.0)]);
        let semver = probes(&condition(Op::SemverCaret, json!("1.2.3")));
        for version in [
            "1.2.4", "1.3.0", "2.0.0", "1.2.2", "1.1.0", "0.0.0", "v1.2.3",
        ] {
            assert!(semver.contains(&json!(version)), "{version}: {semver:?}");
        }
    }
}
