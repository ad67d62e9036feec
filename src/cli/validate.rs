//! `flagctl validate`: file-level checks only, for pre-commit hooks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::terminal::tell;
use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::checks::{Finding, Severities, Sink, Summary, check_files};
use flagctl::eval::FlagSet;
use flagctl::export::{Unportable, locate, unportable};
use flagctl::model::SourceFile;
use flagctl::rules::RuleId;

#[derive(clap::Args)]
pub struct Args {
    /// Check what is staged in git's index (what the next commit holds), not the work
    /// tree: for pre-commit hooks
    #[arg(long, conflicts_with = "rev")]
    staged: bool,
    /// Check this flagd flag-definition file instead of the repository: that it loads, and
    /// each construct whose result differs between flagd engines (`portability`)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["staged", "rev"])]
    flagd: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "validate", &[Format::Human, Format::Json])?;
    if let Some(path) = &args.flagd {
        return validate_flagd(ctx, path);
    }
    let repo = match render::load_checked(ctx, &ctx.source_or_staged(args.staged), None)? {
        Ok(repo) => repo,
        Err(code) => return Ok(code),
    };
    let severities = Severities::from_config(&repo.config);
    let mut sink = Sink::new(&severities);
    check_files(&repo, &mut sink);
    let findings = sink.into_findings();
    render::findings(ctx, &repo, &findings, &[])?;
    Ok(exit_code(Summary::of(&findings)))
}

/// 1 when anything is at error level.
pub fn exit_code(summary: Summary) -> ExitCode {
    if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `validate --flagd FILE`: a file that does not load is an `invalid-flag` error; each
/// unportable construct a `portability` warning pointing into the JSON.
fn validate_flagd(ctx: &Ctx, path: &std::path::Path) -> Outcome {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = SourceFile::new(path.display().to_string(), text);
    let severities = Severities::default();
    let mut sink = Sink::new(&severities);
    match FlagSet::from_flagd_json(&source.text) {
        Err(error) => sink.push(finding(
            RuleId::InvalidFlag,
            &source,
            0,
            None,
            format!("not a flagd flag definition: {error:#}"),
            Some("fix the file; flagd refuses it too".to_owned()),
        )),
        Ok(_) => {
            let document: serde_json::Value = serde_json::from_str(&source.text)?;
            for found in unportable(&document) {
                sink.push(unportable_finding(&source, found));
            }
        }
    }
    let findings = sink.into_findings();
    render::flagd_findings(ctx, &source, &findings)?;
    Ok(exit_code(Summary::of(&findings)))
}

fn unportable_finding(source: &SourceFile, found: Unportable) -> Finding {
    let offset = locate(&source.text, &found.pointer).unwrap_or(0);
    let message = format!("{} (at {})", found.message, found.pointer);
    finding(
        RuleId::Portability,
        source,
        offset,
        found.flag,
        message,
        Some(found.help.to_owned()),
    )
}

fn finding(
    rule: RuleId,
    source: &SourceFile,
    offset: usize,
    flag: Option<String>,
    message: String,
    help: Option<String>,
) -> Finding {
    let (line, column) = source.line_col(offset);
    Finding {
        rule,
        severity: rule.default_severity(),
        flag,
        service: None,
        owner: None,
        path: source.path.clone(),
        line,
        column,
        message,
        help,
        span: offset..(offset + 1).min(source.text.len()),
        code: None,
    }
}

/// `eval --flagd FILE`: each unportable construct, as a warning on stderr.
pub fn warn_unportable(path: &str, text: &str) {
    let Ok(document) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let source = SourceFile::new(path, text);
    for found in unportable(&document) {
        let finding = unportable_finding(&source, found);
        tell!(
            "warning[portability]: {}\n  --> {}:{}:{}\n  = help: {}",
            finding.message,
            finding.path,
            finding.line,
            finding.column,
            finding.help.unwrap_or_default()
        );
    }
}
