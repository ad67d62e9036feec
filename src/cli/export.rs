//! `flagctl export --format flagd`: the flag-definition file flagd serves, optionally
//! checked against the engine first.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::Value;

use schemars::JsonSchema;
use serde::Serialize;

use super::output::{self, Output};
use super::terminal::{self, tell};
use super::{Ctx, Format, Outcome};
use flagctl::eval::FlagSet;
use flagctl::export::{self, Served, Verification};
use flagctl::fsio::write_atomic;

/// The seed of `--verify`'s contexts: fixed, so a failure can be reproduced.
const VERIFY_SEED: u64 = 0x5eed;

/// The most contexts `--verify` generates: each is evaluated for every flag, twice.
const MAX_VERIFY: u64 = 1_000_000;

/// How many differences `--verify` lists.
const SHOWN_DIFFERENCES: usize = 10;

#[derive(clap::Args)]
pub struct Args {
    /// Write the file here (atomically) instead of to stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// First evaluate N generated contexts (at most 1,000,000) through the TOML flags and
    /// through the exported file; on any difference write nothing, list them and exit 1
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_VERIFY))]
    verify: Option<u64>,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    // flagd is the only export format, so the default (human) means it too; json is the
    // report of an export written to a file or verified.
    let json = ctx.format() == Format::Json;
    if !matches!(ctx.format(), Format::Flagd | Format::Human | Format::Json) {
        bail!("`export` writes flagd flag definitions; use --format flagd");
    }
    if json && args.output.is_none() && args.verify.is_none() {
        bail!(
            "`export --format json` prints the report of an export written with -o FILE or checked with --verify N; for the flag definitions use --format flagd"
        );
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
    let notes: Vec<String> = note.into_iter().collect();
    for note in &notes {
        tell!("note: {note}");
    }
    let document = export::to_flagd(&set, &version)?;
    let mut text = Vec::new();
    flagctl::output::write_json(&mut text, &document)?;
    let text = String::from_utf8(text)? + "\n";
    let verification = match args.verify {
        Some(count) => {
            let mut exported = FlagSet::from_flagd_json(&text).context(
                "the exported file does not load as a flagd flag definition (a flagctl bug)",
            )?;
            exported.set_fractional(set.fractional());
            Some(export::verify(
                &set,
                &exported,
                count,
                VERIFY_SEED,
                SHOWN_DIFFERENCES,
            ))
        }
        None => None,
    };
    let differs = verification.as_ref().is_some_and(|v| v.differing > 0);
    let mut written = None;
    if !differs {
        match &args.output {
            Some(path) => {
                write_atomic(path, &text, true)?;
                written = Some(path.display().to_string());
            }
            None if !json => {
                // JSON escapes what it carries; a text escape would break the document.
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            None => {}
        }
    }
    let report = Exported {
        version,
        flags: set.flags().count(),
        written,
        verification,
        notes,
    };
    if json {
        output::json(ctx, &report)?;
    } else {
        // stdout may hold the flagd file: the report goes to stderr.
        report.human(&mut terminal::stderr(false), false)?;
    }
    Ok(if differs {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `export` did: the flag set's version, what was written and what `--verify`
/// found. `--format json` prints it on stdout; otherwise it goes to stderr.
#[derive(Serialize, JsonSchema)]
pub struct Exported {
    /// The flag set's version: the commit (with `-dirty` for uncommitted changes), or
    /// `worktree` outside git.
    version: String,
    /// How many flags the export holds.
    flags: usize,
    /// The file written (`-o`); `null` when nothing was written.
    written: Option<String>,
    /// What `--verify N` found; `null` without it.
    verification: Option<Verification>,
    /// Why the version is not a plain commit, if it is not.
    notes: Vec<String>,
}

impl Output for Exported {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        if let Some(verification) = &self.verification {
            if verification.differing > 0 {
                for difference in &verification.first {
                    writeln!(
                        out,
                        "difference: flag {}: flagctl eval serves {}, the export serves {}\n  context: {}",
                        difference.flag,
                        served(&difference.engine),
                        served(&difference.flagd),
                        Value::Object(difference.context.clone())
                    )?;
                }
                return writeln!(
                    out,
                    "error: the export differs from flagctl eval on {} of {} evaluations ({} contexts); nothing was written",
                    verification.differing, verification.evaluations, verification.contexts
                );
            }
            writeln!(
                out,
                "verified: {} contexts × {} flags, the export serves what flagctl eval does",
                verification.contexts, self.flags
            )?;
        }
        if let Some(path) = &self.written {
            writeln!(
                out,
                "wrote {path} ({} flags, version {})",
                self.flags, self.version
            )?;
        }
        Ok(())
    }
}

fn served(served: &Served) -> String {
    match (&served.variant, &served.value) {
        (Some(variant), Some(value)) => format!("`{variant}` ({value})"),
        (Some(variant), None) => format!("`{variant}`"),
        (None, _) => "no variant".to_owned(),
    }
}
