//! `flagctl export --format flagd`: the flag-definition file flagd serves, optionally
//! checked against the engine first.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::Value;

use super::{Ctx, Format, Outcome};
use flagctl::eval::FlagSet;
use flagctl::export::{self, Verification};
use flagctl::fsio::write_atomic;

/// The seed of `--verify`'s contexts: fixed, so a failure can be reproduced.
const VERIFY_SEED: u64 = 0x5eed;

/// How many differences `--verify` lists.
const SHOWN_DIFFERENCES: usize = 10;

#[derive(clap::Args)]
pub struct Args {
    /// Write the file here (atomically) instead of to stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// First evaluate N generated contexts through the TOML flags and through the
    /// exported file; on any difference write nothing, list them and exit 1
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    verify: Option<u64>,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    // flagd is the only export format, so the default (human) means it too.
    if !matches!(ctx.format(), Format::Flagd | Format::Human) {
        bail!("`export` writes flagd flag definitions; use --format flagd");
    }
    let repo = ctx.load()?;
    let invalid: Vec<&str> = repo
        .files
        .iter()
        .filter(|file| !file.archived && file.flag().is_none())
        .map(|file| file.source.path.as_str())
        .collect();
    if !invalid.is_empty() {
        bail!(
            "{} does not fit the schema, and an export without it would serve the SDK's fallback; fix it first (`flagctl validate` says why)",
            invalid.join(", ")
        );
    }
    let mut keys: Vec<&str> = repo
        .files
        .iter()
        .filter(|file| !file.archived)
        .map(|file| file.key.as_str())
        .collect();
    keys.sort_unstable();
    if let Some(pair) = keys.windows(2).find(|pair| pair[0] == pair[1]) {
        bail!(
            "two flag files share the key `{}`; an export must serve one (`flagctl validate` reports duplicate-key)",
            pair[0]
        );
    }
    let set = flagctl::compile::flag_set(&repo);
    let (version, note) = repo.version()?;
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    let document = export::to_flagd(&set, &version)?;
    let text = serde_json::to_string_pretty(&document)? + "\n";
    if let Some(count) = args.verify {
        let exported = FlagSet::from_flagd_json(&text).context(
            "the exported file does not load as a flagd flag definition (a flagctl bug)",
        )?;
        let verification = export::verify(&set, &exported, count, VERIFY_SEED, SHOWN_DIFFERENCES);
        if verification.differing > 0 {
            report_differences(&verification)?;
            return Ok(ExitCode::from(1));
        }
        eprintln!(
            "verified: {} contexts × {} flags, the export serves what flagctl eval does",
            verification.contexts,
            set.flags().count()
        );
    }
    match &args.output {
        Some(path) => {
            write_atomic(path, &text, true)?;
            eprintln!(
                "wrote {} ({} flags, version {version})",
                path.display(),
                set.flags().count()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_differences(verification: &Verification) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    let served = |(variant, value): &(Option<String>, Option<Value>)| match (variant, value) {
        (Some(variant), Some(value)) => format!("`{variant}` ({value})"),
        (Some(variant), None) => format!("`{variant}`"),
        (None, _) => "no variant".to_owned(),
    };
    for difference in &verification.first {
        writeln!(
            err,
            "difference: flag {}: flagctl eval serves {}, the export serves {}\n  context: {}",
            difference.flag,
            served(&difference.engine),
            served(&difference.flagd),
            Value::Object(difference.context.clone())
        )?;
    }
    writeln!(
        err,
        "error: the export differs from flagctl eval on {} of {} evaluations ({} contexts); nothing was written",
        verification.differing, verification.evaluations, verification.contexts
    )
}
