//! `flagctl simulate`: one flag over many contexts, the split next to its weights.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use rayon::prelude::*;
use serde_json::{Value, json};

use super::eval::{Source, context_line};
use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::eval::{
    Action, ContextGenerator, Draw, Simulation, Targeting, numbered_lines, parse_attribute,
    simulate,
};

/// Below this p-value a rollout's split is reported as departing from its weights.
const SIGNIFICANCE: f64 = 0.001;

#[derive(clap::Args)]
pub struct Args {
    /// The flag key
    key: String,
    /// Evaluate the contexts of this file (one JSON object per line)
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "sample",
        conflicts_with = "sample"
    )]
    contexts: Option<PathBuf>,
    /// Generate N contexts, each with a random targeting key (and a random id for each
    /// rollout's bucket_by attribute not given by --attr)
    #[arg(long, value_name = "N")]
    sample: Option<u64>,
    /// An attribute of the generated contexts and the values drawn for it, uniformly:
    /// `k=v1,v2` (strings) or `k:=[JSON, …]` (typed; null for missing) (repeatable)
    #[arg(long, value_name = "K=V1,V2", requires = "sample", value_parser = parse_draw)]
    attr: Vec<(String, Vec<Value>)>,
    /// Seed of the generated contexts: the same seed gives the same contexts (default:
    /// random, and reported so the run can be repeated)
    #[arg(long, requires = "sample")]
    seed: Option<u64>,
}

fn parse_draw(text: &str) -> Result<(String, Vec<Value>), String> {
    let typed = text.find('=').is_some_and(|eq| text[..eq].ends_with(':'));
    let (name, value) = parse_attribute(text)?;
    let values = match value {
        Value::Array(values) if typed => values,
        _ if typed => return Err(format!("`{text}`: after `:=` give a JSON array of values")),
        Value::String(list) => list
            .split(',')
            .map(|v| Value::String(v.to_owned()))
            .collect(),
        _ => unreachable!("untyped attributes are strings"),
    };
    if values.is_empty() {
        return Err(format!("`{text}`: give at least one value"));
    }
    Ok((name, values))
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "simulate", &[Format::Human, Format::Json])?;
    let source = Source::load(ctx, None, None)?;
    source.keys(Some(&args.key))?;
    let set = &source.set;
    let flag = set.get(&args.key).expect("keys() checked it");
    let (simulation, seed) = match (&args.contexts, args.sample) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let lines = numbered_lines(&text);
            let contexts = lines
                .par_iter()
                .map(|&(number, line)| context_line(path, number, line));
            (simulate(set, &args.key, contexts)?, None)
        }
        (None, Some(count)) => {
            let mut attributes: Vec<(String, Draw)> = args
                .attr
                .iter()
                .map(|(name, values)| (name.clone(), Draw::OneOf(values.clone())))
                .collect();
            if let Targeting::Native(native) = &flag.targeting {
                for rule in &native.rules {
                    if let Action::Rollout(rollout) = &rule.action
                        && let Some(attr) = &rollout.bucket_by
                        && !attributes.iter().any(|(name, _)| name == attr)
                    {
                        attributes.push((attr.clone(), Draw::Unique));
                    }
                }
            }
            let generator = ContextGenerator::new(attributes, 0.0);
            let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
            let contexts = (0..count)
                .into_par_iter()
                .map(|index| Ok(generator.context(seed, index)));
            (simulate(set, &args.key, contexts)?, Some(seed))
        }
        (None, None) => bail!("give --contexts FILE or --sample N"),
    };
    if ctx.format() == Format::Json {
        render::json_out(&simulation_json(&simulation, seed))?;
    } else {
        write_human(&simulation, seed)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

fn simulation_json(simulation: &Simulation, seed: Option<u64>) -> Value {
    let total = simulation.contexts;
    json!({
        "flag": simulation.flag,
        "contexts": total,
        "seed": seed,
        "variants": simulation.variants.iter().map(|(variant, count)| json!({
            "variant": variant, "count": count, "share": share(*count, total),
        })).collect::<Vec<_>>(),
        "outcomes": simulation.outcomes.iter().map(|outcome| json!({
            "rule": outcome.rule, "reason": outcome.reason.as_str(),
            "count": outcome.count, "share": share(outcome.count, total),
        })).collect::<Vec<_>>(),
        "rollouts": simulation.rollouts.iter().map(|rollout| {
            let total_weight: u64 = rollout.entries.iter().map(|(_, weight, _)| u64::from(*weight)).sum();
            json!({
                "rule": rollout.rule,
                "bucket_by": rollout.bucket_by,
                "bucketed": rollout.bucketed,
                "entries": rollout.entries.iter().map(|(variant, weight, count)| json!({
                    "variant": variant, "weight": weight,
                    "expected_share": share(u64::from(*weight), total_weight),
                    "count": count, "share": share(*count, rollout.bucketed),
                })).collect::<Vec<_>>(),
                "chi_square": rollout.chi_square.map(|test| json!({
                    "statistic": test.statistic,
                    "degrees_of_freedom": test.degrees_of_freedom,
                    "p_value": test.p_value,
                })),
            })
        }).collect::<Vec<_>>(),
    })
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.2}%", share * 100.0)
}

fn write_human(simulation: &Simulation, seed: Option<u64>) -> anyhow::Result<()> {
    let total = simulation.contexts;
    let source = match seed {
        Some(seed) => format!("generated, seed {seed}"),
        None => "from the file".to_owned(),
    };
    let mut out = std::io::stdout();
    writeln!(
        out,
        "{}: {} contexts ({source})\n",
        simulation.flag,
        thousands(total)
    )?;

    let mut variants = render::table(&["VARIANT", "COUNT", "SHARE"]);
    for (variant, count) in &simulation.variants {
        variants.add_row(vec![
            variant.clone().unwrap_or_else(|| "(none: error)".into()),
            thousands(*count),
            percent(share(*count, total)),
        ]);
    }
    render::print_table(&variants)?;

    let mut outcomes = render::table(&["DECIDED BY", "REASON", "COUNT", "SHARE"]);
    for outcome in &simulation.outcomes {
        outcomes.add_row(vec![
            outcome
                .rule
                .as_ref()
                .map_or("(no rule)".to_owned(), |rule| format!("rule {rule}")),
            outcome.reason.to_string(),
            thousands(outcome.count),
            percent(share(outcome.count, total)),
        ]);
    }
    writeln!(out)?;
    render::print_table(&outcomes)?;

    for rollout in &simulation.rollouts {
        let total_weight: u64 = rollout
            .entries
            .iter()
            .map(|(_, weight, _)| u64::from(*weight))
            .sum();
        writeln!(
            out,
            "\nrollout {} on {}: {} contexts bucketed",
            rollout.rule,
            rollout.bucket_by,
            thousands(rollout.bucketed)
        )?;
        let mut table = render::table(&["VARIANT", "WEIGHT", "EXPECTED", "OBSERVED", "COUNT"]);
        for (variant, weight, count) in &rollout.entries {
            table.add_row(vec![
                variant.clone(),
                weight.to_string(),
                percent(share(u64::from(*weight), total_weight)),
                percent(share(*count, rollout.bucketed)),
                thousands(*count),
            ]);
        }
        render::print_table(&table)?;
        let verdict = match rollout.chi_square {
            Some(test) => format!(
                "chi-square {:.3}, {} degree{} of freedom, p = {:.4}: {}",
                test.statistic,
                test.degrees_of_freedom,
                if test.degrees_of_freedom == 1 {
                    ""
                } else {
                    "s"
                },
                test.p_value,
                if min_expected(rollout) < 5.0 {
                    "too few contexts for the test to mean much (fewer than 5 expected in some variant)"
                } else if test.p_value < SIGNIFICANCE {
                    "the split departs from the weights"
                } else {
                    "consistent with the weights"
                }
            ),
            None if rollout.bucketed == 0 => {
                "chi-square: nothing was bucketed (no context matched with a bucketing value)"
                    .into()
            }
            None => "chi-square: one variant carries all the weight, nothing to test".into(),
        };
        writeln!(out, "{verdict}")?;
    }
    Ok(())
}

/// The smallest count the weights lead one to expect among the bucketed contexts: the
/// chi-square test is unreliable below 5.
fn min_expected(rollout: &flagctl::eval::RolloutSplit) -> f64 {
    let total: u64 = rollout
        .entries
        .iter()
        .map(|(_, weight, _)| u64::from(*weight))
        .sum();
    rollout
        .entries
        .iter()
        .filter(|(_, weight, _)| *weight > 0)
        .map(|(_, weight, _)| rollout.bucketed as f64 * f64::from(*weight) / total.max(1) as f64)
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_lists_of_strings_or_typed_arrays() {
        assert_eq!(
            parse_draw("country=SG,MY").unwrap(),
            ("country".into(), vec![json!("SG"), json!("MY")])
        );
        assert_eq!(
            parse_draw("age:=[18, 30, null]").unwrap(),
            ("age".into(), vec![json!(18), json!(30), Value::Null])
        );
        assert!(parse_draw("age:=30").is_err());
        assert!(parse_draw("age:=[]").is_err());
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
