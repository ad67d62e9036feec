//! `flagctl simulate`: one flag over many contexts, the split next to its weights.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::eval::{PIECE_BYTES, Source, context_line, read_lines_file};
use super::output::{Output, emit};
use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::eval::{
    Action, ContextGenerator, ContextReader, Draw, Reads, RolloutSplit, Simulation, Targeting,
    parse_attribute, pieces, simulate, simulate_read,
};

/// Below this p-value a rollout's split is reported as departing from its weights.
const SIGNIFICANCE: f64 = 0.001;

/// The most contexts `--sample` generates: seconds of work, where a typo of a few
/// digits would otherwise run for hours.
const MAX_SAMPLE: u64 = 10_000_000;

#[derive(clap::Args)]
pub struct Args {
    /// The flag key
    key: String,
    /// Evaluate the contexts of this file (one JSON object per line)
    // Neither --contexts nor --sample is `run`'s error, which names both.
    #[arg(long, value_name = "FILE", conflicts_with = "sample")]
    contexts: Option<PathBuf>,
    /// Generate N contexts (1 to 10,000,000), each with a random targeting key (and a
    /// random id for each rollout's bucket_by attribute not given by --attr)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_SAMPLE))]
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
    if !text.contains('=') {
        let name = if text.is_empty() { "k" } else { text };
        return Err(format!(
            "`{text}` gives no values; use `{name}=v1,v2` (strings) or `{name}:=[JSON, …]` (typed)"
        ));
    }
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
    let source = Source::load(ctx, None, None, None)?;
    source.keys(Some(&args.key))?;
    let set = &source.set;
    let flag = set.get(&args.key).expect("keys() checked it");
    let (simulation, seed) = match (&args.contexts, args.sample) {
        (Some(path), _) => {
            let text = read_lines_file(path)?;
            // Each line is read only as far as the flag needs it.
            let reads = Reads::of(set, [args.key.as_str()]);
            let simulation = simulate_read(
                set,
                &args.key,
                pieces(&text, PIECE_BYTES).into_par_iter(),
                || ContextReader::new(&reads),
                |reader, piece, each| {
                    for (number, line) in piece.lines() {
                        each(context_line(path, number, line, reader)?);
                    }
                    Ok(())
                },
            )?;
            (simulation, None)
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
            // At most MAX_SAMPLE: a usize everywhere.
            let count = usize::try_from(count)?;
            let contexts = (0..count)
                .into_par_iter()
                .map(|index| Ok(generator.context(seed, index as u64)));
            (simulate(set, &args.key, contexts)?, Some(seed))
        }
        (None, None) => bail!("give --contexts FILE or --sample N"),
    };
    emit(ctx, &Simulated { simulation, seed })?;
    Ok(ExitCode::SUCCESS)
}

/// `simulate`: the split of one flag over many contexts.
#[derive(Serialize, JsonSchema)]
pub struct Simulated {
    #[serde(flatten)]
    simulation: Simulation,
    /// The seed of the generated contexts (`--sample`), so the run can be repeated;
    /// `null` for contexts read from a file.
    seed: Option<u64>,
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

impl Output for Simulated {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        let simulation = &self.simulation;
        let source = match self.seed {
            Some(seed) => format!("generated, seed {seed}"),
            None => "from the file".to_owned(),
        };
        writeln!(
            out,
            "{}: {} contexts ({source})\n",
            simulation.flag,
            thousands(simulation.contexts)
        )?;

        let mut variants = render::table(&["VARIANT", "COUNT", "SHARE"]);
        for variant in &simulation.variants {
            variants.add_row(vec![
                variant
                    .variant
                    .clone()
                    .unwrap_or_else(|| "(none: error)".into()),
                thousands(variant.count),
                percent(variant.share),
            ]);
        }
        render::write_table(out, &variants)?;

        let mut outcomes = render::table(&["DECIDED BY", "REASON", "COUNT", "SHARE"]);
        for outcome in &simulation.outcomes {
            outcomes.add_row(vec![
                outcome
                    .rule
                    .as_ref()
                    .map_or("(no rule)".to_owned(), |rule| format!("rule {rule}")),
                outcome.reason.to_string(),
                thousands(outcome.count),
                percent(outcome.share),
            ]);
        }
        writeln!(out)?;
        render::write_table(out, &outcomes)?;

        for rollout in &simulation.rollouts {
            writeln!(
                out,
                "\nrollout {} on {}: {} contexts bucketed",
                rollout.rule,
                rollout.bucket_by,
                thousands(rollout.bucketed)
            )?;
            let mut table = render::table(&["VARIANT", "WEIGHT", "EXPECTED", "OBSERVED", "COUNT"]);
            for entry in &rollout.entries {
                table.add_row(vec![
                    entry.variant.clone(),
                    entry.weight.to_string(),
                    percent(entry.expected_share),
                    percent(entry.share),
                    thousands(entry.count),
                ]);
            }
            render::write_table(out, &table)?;
            writeln!(out, "{}", verdict(rollout))?;
        }
        Ok(())
    }
}

/// What the chi-square test says about a rollout's split.
fn verdict(rollout: &RolloutSplit) -> String {
    match rollout.chi_square {
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
            if rollout.min_expected() < 5.0 {
                "too few contexts for the test to mean much (fewer than 5 expected in some variant)"
            } else if test.p_value < SIGNIFICANCE {
                "the split departs from the weights"
            } else {
                "consistent with the weights"
            }
        ),
        None if rollout.bucketed == 0 => {
            "chi-square: nothing was bucketed (no context matched with a bucketing value)".into()
        }
        None => "chi-square: one variant carries all the weight, nothing to test".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
