//! Many evaluations of one flag, counted: the split per variant and per rule, and for
//! each rollout the observed split next to its weights with a chi-square goodness-of-fit
//! test (`flagctl simulate`).

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, bail};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::bucket;
use super::context::{Context, TARGETING_KEY};
use super::flag::{Action, Flag, Rollout, Targeting};
use super::set::{FlagSet, Reason, Resolution};

/// The counts of a simulation, with each count's share of its whole.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Simulation {
    pub flag: String,
    pub contexts: u64,
    /// Each declared variant with how often it was served, in declaration order; then
    /// the evaluations that served no variant (errors), if any.
    pub variants: Vec<VariantCount>,
    /// What decided: each rule (in order, even those that never matched), then each
    /// reason that decided without a rule, as it occurred.
    pub outcomes: Vec<Outcome>,
    /// Each rollout rule's split.
    pub rollouts: Vec<RolloutSplit>,
}

/// How often a variant was served.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VariantCount {
    /// Null for evaluations that served no variant.
    pub variant: Option<String>,
    pub count: u64,
    /// Of all contexts, 0 to 1.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Outcome {
    /// The rule that matched, or null when no rule decided.
    pub rule: Option<String>,
    pub reason: Reason,
    pub count: u64,
    /// Of all contexts, 0 to 1.
    pub share: f64,
}

/// A rollout's configured weights next to what the evaluations drew.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RolloutSplit {
    pub rule: String,
    /// The attribute bucketed on (`targetingKey` by default).
    pub bucket_by: String,
    /// Evaluations this rollout bucketed (the rule matched and the bucketing value was
    /// present).
    pub bucketed: u64,
    /// Its entries in file order.
    pub entries: Vec<RolloutEntry>,
    /// Null with fewer than two positively weighted entries or nothing bucketed.
    pub chi_square: Option<ChiSquare>,
}

impl RolloutSplit {
    /// The smallest count the weights lead one to expect among the bucketed contexts:
    /// the chi-square test is unreliable below 5.
    pub fn min_expected(&self) -> f64 {
        self.entries
            .iter()
            .filter(|entry| entry.weight > 0)
            .map(|entry| self.bucketed as f64 * entry.expected_share)
            .fold(f64::INFINITY, f64::min)
    }
}

/// One entry of a rollout: its weight and what it drew.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RolloutEntry {
    pub variant: String,
    pub weight: u32,
    /// The entry's weight over the rollout's total, 0 to 1.
    pub expected_share: f64,
    pub count: u64,
    /// Of the bucketed contexts, 0 to 1.
    pub share: f64,
}

/// `count` over `total`, 0 when there is nothing to share.
fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// Pearson's chi-square goodness-of-fit test of observed counts against weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct ChiSquare {
    pub statistic: f64,
    pub degrees_of_freedom: u32,
    /// The chance of a statistic at least this large if the split follows the weights.
    pub p_value: f64,
}

impl ChiSquare {
    /// The test over `(weight, observed)` pairs; entries of weight 0 are left out (they
    /// are never drawn).
    pub fn test(entries: &[(u32, u64)]) -> Option<ChiSquare> {
        let entries: Vec<(f64, f64)> = entries
            .iter()
            .filter(|(weight, _)| *weight > 0)
            .map(|&(weight, observed)| (f64::from(weight), observed as f64))
            .collect();
        let total_weight: f64 = entries.iter().map(|(weight, _)| weight).sum();
        let total: f64 = entries.iter().map(|(_, observed)| observed).sum();
        if entries.len() < 2 || total == 0.0 {
            return None;
        }
        let statistic = entries
            .iter()
            .map(|(weight, observed)| {
                let expected = total * weight / total_weight;
                (observed - expected).powi(2) / expected
            })
            .sum();
        let degrees_of_freedom = entries.len() as u32 - 1;
        let distribution = ChiSquared::new(f64::from(degrees_of_freedom)).ok()?;
        Some(ChiSquare {
            statistic,
            degrees_of_freedom,
            p_value: distribution.sf(statistic),
        })
    }
}

/// Evaluates `key` for every context and counts. Contexts come as results so that a
/// reader can report a bad one; the first bad one in the iterator's order stops the
/// simulation, and is the error.
pub fn simulate<I>(set: &FlagSet, key: &str, contexts: I) -> Result<Simulation>
where
    I: IndexedParallelIterator<Item = Result<Context>>,
{
    simulate_read(
        set,
        key,
        contexts,
        || (),
        |(), context, each| {
            each(&context?);
            Ok(())
        },
    )
}

/// [`simulate`] over items that `read` turns into contexts (any number of them per item),
/// passing each to `each`, with a reader state of its own (made by `reader`) in each
/// thread. When items fail to read, the first one that fails (in the iterator's order)
/// is the error: items after a failure already seen are not read.
pub fn simulate_read<I, S, R>(
    set: &FlagSet,
    key: &str,
    items: I,
    reader: impl Fn() -> S + Sync + Send,
    read: R,
) -> Result<Simulation>
where
    I: IndexedParallelIterator,
    S: Send,
    R: Fn(&mut S, I::Item, &mut dyn FnMut(&Context)) -> Result<()> + Sync,
{
    let Some(flag) = set.get(key) else {
        bail!("no flag \"{key}\"");
    };
    // Every evaluation would fail alike: say why once.
    if let Some(out) = set.out_of_bounds(key) {
        bail!(
            "flag \"{key}\" cannot be evaluated: {}; `flagctl audit` reports it",
            out.message
        );
    }
    let shape = Shape::of(flag);
    let first_failure = AtomicUsize::new(usize::MAX);
    let (tally, failure) = items
        .enumerate()
        .fold(
            || (Tally::new(&shape), reader(), None),
            |(mut tally, mut state, mut failure), (index, item)| {
                if failure.is_none() && index < first_failure.load(Ordering::Relaxed) {
                    let mut each =
                        |context: &Context| tally.add(&shape, &set.evaluate(key, context));
                    if let Err(error) = read(&mut state, item, &mut each) {
                        first_failure.fetch_min(index, Ordering::Relaxed);
                        failure = Some((index, error));
                    }
                }
                (tally, state, failure)
            },
        )
        .map(|(tally, _, failure)| (tally, failure))
        .reduce(
            || (Tally::new(&shape), None),
            |(a, a_failure), (b, b_failure)| {
                let failure = match (a_failure, b_failure) {
                    (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
                    (a, b) => a.or(b),
                };
                (a.merge(b), failure)
            },
        );
    if let Some((_, error)) = failure {
        return Err(error);
    }
    Ok(tally.into_simulation(flag, &shape))
}

/// The variants and rules of a flag as a simulation counts them.
struct Shape<'f> {
    variants: Vec<&'f str>,
    rules: Vec<&'f str>,
    /// Per rule: its rollout, if it is one.
    rollouts: Vec<Option<&'f Rollout>>,
}

impl<'f> Shape<'f> {
    fn of(flag: &'f Flag) -> Shape<'f> {
        let rules = match &flag.targeting {
            Targeting::Native(native) => native.rules.as_slice(),
            _ => &[],
        };
        Shape {
            variants: flag.variants.keys().map(String::as_str).collect(),
            rules: rules.iter().map(|rule| rule.name.as_str()).collect(),
            rollouts: rules
                .iter()
                .map(|rule| match &rule.action {
                    Action::Rollout(rollout) => Some(rollout),
                    Action::Serve(_) => None,
                })
                .collect(),
        }
    }

    /// Where a name borrowed from the flag sits among `names`. Resolutions borrow the
    /// flag's own strings, so comparing pointers is exact (it tells two rules of one name
    /// apart) and costs no string comparison.
    fn position(names: &[&str], borrowed: &str) -> Option<usize> {
        names.iter().position(|name| std::ptr::eq(*name, borrowed))
    }
}

/// Counts of one thread's share of the contexts.
struct Tally {
    contexts: u64,
    /// Indexed by variant; the last slot counts evaluations without a variant.
    variants: Vec<u64>,
    /// Indexed by rule.
    rules: Vec<u64>,
    /// Evaluations no rule decided, by reason, in the order first seen.
    unruled: Vec<(Reason, u64)>,
    /// Per rule, per rollout entry.
    entries: Vec<Vec<u64>>,
}

impl Tally {
    fn new(shape: &Shape<'_>) -> Tally {
        Tally {
            contexts: 0,
            variants: vec![0; shape.variants.len() + 1],
            rules: vec![0; shape.rules.len()],
            unruled: Vec::new(),
            entries: shape
                .rollouts
                .iter()
                .map(|rollout| vec![0; rollout.map_or(0, |r| r.entries.len())])
                .collect(),
        }
    }

    fn add(&mut self, shape: &Shape<'_>, resolution: &Resolution<'_>) {
        self.contexts += 1;
        let variant = resolution
            .variant
            .and_then(|variant| Shape::position(&shape.variants, variant))
            .unwrap_or(shape.variants.len());
        self.variants[variant] += 1;
        match resolution
            .rule
            .and_then(|rule| Shape::position(&shape.rules, rule))
        {
            Some(rule) => {
                self.rules[rule] += 1;
                if let (Some(bucket), Some(rollout)) = (resolution.bucket, shape.rollouts[rule])
                    && let Some(entry) = bucket::pick(
                        bucket.value,
                        rollout.entries.iter().map(|(_, weight)| u64::from(*weight)),
                    )
                {
                    self.entries[rule][entry] += 1;
                }
            }
            None => self.count_unruled(resolution.reason, 1),
        }
    }

    fn count_unruled(&mut self, reason: Reason, count: u64) {
        match self.unruled.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += count,
            None => self.unruled.push((reason, count)),
        }
    }

    fn merge(mut self, other: Tally) -> Tally {
        self.contexts += other.contexts;
        for (mine, theirs) in self.variants.iter_mut().zip(other.variants) {
            *mine += theirs;
        }
        for (mine, theirs) in self.rules.iter_mut().zip(other.rules) {
            *mine += theirs;
        }
        for (reason, count) in other.unruled {
            self.count_unruled(reason, count);
        }
        for (mine, theirs) in self.entries.iter_mut().zip(other.entries) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        self
    }

    fn into_simulation(self, flag: &Flag, shape: &Shape<'_>) -> Simulation {
        let total = self.contexts;
        let count = |variant: Option<String>, count: u64| VariantCount {
            variant,
            count,
            share: share(count, total),
        };
        let mut variants: Vec<VariantCount> = shape
            .variants
            .iter()
            .zip(&self.variants)
            .map(|(name, n)| count(Some((*name).to_owned()), *n))
            .collect();
        let without_variant = self.variants[shape.variants.len()];
        if without_variant > 0 {
            variants.push(count(None, without_variant));
        }
        let outcome = |rule: Option<&str>, reason: Reason, count: u64| Outcome {
            rule: rule.map(str::to_owned),
            reason,
            count,
            share: share(count, total),
        };
        let outcomes = shape
            .rules
            .iter()
            .zip(&self.rules)
            .map(|(name, count)| outcome(Some(name), Reason::TargetingMatch, *count))
            .chain(
                self.unruled
                    .iter()
                    .map(|(reason, count)| outcome(None, *reason, *count)),
            )
            .collect();
        let rollouts = shape
            .rules
            .iter()
            .zip(&shape.rollouts)
            .zip(&self.entries)
            .filter_map(|((rule, rollout), counts)| {
                let rollout = (*rollout)?;
                let pairs: Vec<(u32, u64)> = rollout
                    .entries
                    .iter()
                    .zip(counts)
                    .map(|((_, weight), count)| (*weight, *count))
                    .collect();
                let total_weight: u64 = pairs.iter().map(|(weight, _)| u64::from(*weight)).sum();
                let bucketed = counts.iter().sum();
                Some(RolloutSplit {
                    rule: (*rule).to_owned(),
                    bucket_by: rollout
                        .bucket_by
                        .clone()
                        .unwrap_or_else(|| TARGETING_KEY.to_owned()),
                    bucketed,
                    entries: rollout
                        .entries
                        .iter()
                        .zip(counts)
                        .map(|((variant, weight), count)| RolloutEntry {
                            variant: variant.clone(),
                            weight: *weight,
                            expected_share: share(u64::from(*weight), total_weight),
                            count: *count,
                            share: share(*count, bucketed),
                        })
                        .collect(),
                    chi_square: ChiSquare::test(&pairs),
                })
            })
            .collect();
        Simulation {
            flag: flag.key.clone(),
            contexts: self.contexts,
            variants,
            outcomes,
            rollouts,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::eval::flag::{Native, Rule, State};
    use crate::eval::generate::{ContextGenerator, Draw};
    use crate::eval::{Condition, Op};

    fn ranker() -> FlagSet {
        let mut set = FlagSet::new();
        set.insert(Flag {
            key: "ranker".into(),
            state: State::Enabled,
            variants: [("baseline", json!(1)), ("candidate", json!(2))]
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            default_variant: Some("baseline".into()),
            metadata: Default::default(),
            targeting: Targeting::Native(Native {
                rules: vec![
                    Rule {
                        name: "qa".into(),
                        conditions: vec![Condition {
                            attr: "country".into(),
                            op: Op::Eq,
                            value: json!("QA"),
                        }],
                        action: Action::Serve("candidate".into()),
                    },
                    Rule {
                        name: "sg".into(),
                        conditions: vec![Condition {
                            attr: "country".into(),
                            op: Op::Eq,
                            value: json!("SG"),
                        }],
                        action: Action::Rollout(Rollout {
                            bucket_by: None,
                            entries: vec![("candidate".into(), 20), ("baseline".into(), 80)],
                        }),
                    },
                ],
                ..Native::default()
            }),
        });
        set
    }

    #[test]
    fn counts_variants_rules_and_rollout_entries() {
        let set = ranker();
        let generator = ContextGenerator::new(
            vec![(
                "country".into(),
                Draw::OneOf(vec![json!("SG"), json!("MY")]),
            )],
            0.0,
        );
        let contexts = (0..20_000usize)
            .into_par_iter()
            .map(|i| Ok(generator.context(5, i as u64)));
        let simulation = simulate(&set, "ranker", contexts).unwrap();
        assert_eq!(simulation.contexts, 20_000);
        let total: u64 = simulation.variants.iter().map(|v| v.count).sum();
        assert_eq!(total, 20_000);
        let rules: Vec<(Option<&str>, Reason)> = simulation
            .outcomes
            .iter()
            .map(|o| (o.rule.as_deref(), o.reason))
            .collect();
        assert_eq!(
            rules,
            [
                (Some("qa"), Reason::TargetingMatch),
                (Some("sg"), Reason::TargetingMatch),
                (None, Reason::Default)
            ]
        );
        assert_eq!(simulation.outcomes[0].count, 0);
        let split = &simulation.rollouts[0];
        assert_eq!(split.bucketed, simulation.outcomes[1].count);
        let share = split.entries[0].share;
        assert_eq!(share, split.entries[0].count as f64 / split.bucketed as f64);
        assert_eq!(split.entries[0].expected_share, 0.2);
        assert!((0.18..0.22).contains(&share), "{share}");
        let test = split.chi_square.unwrap();
        assert_eq!(test.degrees_of_freedom, 1);
        assert!(test.p_value > 0.001, "{test:?}");
    }

    #[test]
    fn chi_square_matches_known_values() {
        // 3:1 expected, 72 and 28 observed: (72-75)^2/75 + (28-25)^2/25 = 0.48.
        let test = ChiSquare::test(&[(3, 72), (1, 28)]).unwrap();
        assert!((test.statistic - 0.48).abs() < 1e-12);
        assert_eq!(test.degrees_of_freedom, 1);
        assert!((test.p_value - 0.488_422).abs() < 1e-5, "{test:?}");
        // A far-off split is implausible.
        let skewed = ChiSquare::test(&[(1, 600), (1, 400)]).unwrap();
        assert!(skewed.p_value < 1e-9, "{skewed:?}");
        assert_eq!(ChiSquare::test(&[(100, 5), (0, 0)]), None);
        assert_eq!(ChiSquare::test(&[(1, 0), (1, 0)]), None);
    }

    #[test]
    fn bad_contexts_stop_the_simulation() {
        let set = ranker();
        let contexts = (0..10usize).into_par_iter().map(|i| {
            if i == 7 {
                bail!("line 8 is not a JSON object")
            } else {
                Ok(Context::new())
            }
        });
        let err = simulate(&set, "ranker", contexts).unwrap_err();
        assert!(err.to_string().contains("line 8"), "{err}");
        // Of many bad contexts, the first is the error, whichever thread met it first.
        for _ in 0..20 {
            let contexts = (0..100_000usize).into_par_iter().map(|i| {
                if i % 7_919 == 7_918 {
                    bail!("context {i} is bad")
                } else {
                    Ok(Context::new())
                }
            });
            let err = simulate(&set, "ranker", contexts).unwrap_err();
            assert_eq!(err.to_string(), "context 7918 is bad");
        }
        assert!(simulate(&set, "nope", rayon::iter::empty()).is_err());
    }

    #[test]
    fn a_flag_out_of_bounds_is_not_simulated() {
        let mut set = ranker();
        let mut looped = set.get("ranker").cloned().expect("the flag");
        if let Targeting::Native(native) = &mut looped.targeting {
            native.prerequisites.push(crate::eval::Prerequisite {
                flag: "ranker".into(),
                variant: "candidate".into(),
            });
        }
        set.insert(looped);
        let err = simulate(&set, "ranker", rayon::iter::empty()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "flag \"ranker\" cannot be evaluated: prerequisites form a cycle (ranker → ranker); `flagctl audit` reports it"
        );
    }
}
