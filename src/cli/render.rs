//! Rendering shared by the commands: findings, errors, tables.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets};

use super::terminal::{self, tell};
use super::{Ctx, Format, output};
use flagctl::checks::{Finding, config_findings};
use flagctl::output::{Failure, FailureJson};
use flagctl::repo::{ConfigError, Repo, Source};
use flagctl::report::{self, Report};

/// Prints an invalid `flagctl.toml` as diagnostics on stderr.
pub fn config_error(error: &ConfigError, color: bool) {
    let mut err = terminal::stderr(color);
    let _ = report::human_problems(&mut err, &error.file, &error.problems, color);
    let _ = writeln!(err, "error: {}", config_summary(error));
}

/// What is wrong with `flagctl.toml`, in one line.
fn config_summary(error: &ConfigError) -> String {
    format!(
        "{} is not valid ({} problem{}); fix it, every command needs it",
        error.file.path,
        error.problems.len(),
        if error.problems.len() == 1 { "" } else { "s" }
    )
}

/// Prints a command's error (exit code 2) in the requested format: a JSON document on
/// stdout for `--format json`, the failed run's document for a findings format of a
/// command that reports findings, else a diagnostic on stderr. The diagnostic goes to
/// stderr with a document too, for whoever reads the log, except with `github`, whose
/// `::error` is the log already.
pub fn error(ctx: &Ctx, error: &anyhow::Error, reports_findings: bool, stderr_color: bool) {
    let config = error.downcast_ref::<ConfigError>();
    let diagnose = || match config {
        Some(config) => config_error(config, stderr_color),
        None => tell!("error: {error:#}"),
    };
    let failure = || match config {
        Some(config) => {
            let mut message = config_summary(config);
            for finding in config_findings(config) {
                message.push_str(&format!(
                    "\n{}:{}:{}: {}",
                    finding.path, finding.line, finding.column, finding.message
                ));
                if let Some(help) = finding.help {
                    message.push_str(&format!(" ({help})"));
                }
            }
            Failure {
                message,
                help: None,
            }
        }
        None => Failure::from_text(&format!("{error:#}")),
    };
    let printed = match ctx.format() {
        Format::Json => output::json(ctx, &FailureJson { error: failure() }),
        Format::Github | Format::Sarif | Format::Junit if reports_findings => write_report(
            ctx,
            &Report {
                failure: Some(&failure()),
                ..empty_report(ctx)
            },
        ),
        _ => {
            diagnose();
            return;
        }
    };
    if printed.is_err() || ctx.format() != Format::Github {
        diagnose();
    }
}

/// A report of nothing checked.
fn empty_report(ctx: &Ctx) -> Report<'static> {
    Report {
        as_of: ctx.today,
        files: &[],
        config: None,
        findings: &[],
        notes: &[],
        failure: None,
        base: ctx
            .root()
            .map(|root| flagctl::repo::work_tree_prefix(&root))
            .unwrap_or_default(),
    }
}

/// The repository of a command that reports findings. When `flagctl.toml` is invalid,
/// its problems are printed instead, as `invalid-config` findings in the requested
/// format, and the exit code (2) comes back.
pub fn load_checked(
    ctx: &Ctx,
    source: &Source,
    policy: Option<&str>,
) -> anyhow::Result<Result<Repo, ExitCode>> {
    let error = match Repo::open_with_policy(&ctx.root()?, source, policy) {
        Ok(repo) => return Ok(Ok(repo)),
        Err(error) => error,
    };
    let Some(config) = error.downcast_ref::<ConfigError>() else {
        return Err(error);
    };
    let findings = config_findings(config);
    write_report(
        ctx,
        &Report {
            config: Some(&config.file),
            findings: &findings,
            ..empty_report(ctx)
        },
    )?;
    Ok(Err(ExitCode::from(2)))
}

/// Prints findings in the requested format.
pub fn findings(
    ctx: &Ctx,
    repo: &Repo,
    findings: &[Finding],
    notes: &[String],
) -> anyhow::Result<()> {
    write_report(
        ctx,
        &Report {
            files: &repo.files,
            findings,
            notes,
            ..empty_report(ctx)
        },
    )
}

/// Prints a report on stdout in the requested format. Its notes also go to stderr,
/// where people read them, except with `github`, whose notices are the log already.
fn write_report(ctx: &Ctx, report: &Report) -> anyhow::Result<()> {
    if ctx.format() != Format::Github {
        for note in report.notes {
            tell!("note: {note}");
        }
    }
    // JSON documents escape what they carry themselves; a text escape would break them.
    let mut json = std::io::BufWriter::new(std::io::stdout().lock());
    let mut out = terminal::stdout(ctx.color, ctx.format() != Format::Github);
    match ctx.format() {
        Format::Human => report::human(&mut out, report, ctx.color)?,
        Format::Json => report::json(&mut json, report)?,
        Format::Github => report::github(&mut out, report)?,
        Format::Sarif => report::sarif(&mut json, report)?,
        Format::Junit => report::junit(&mut out, report)?,
        Format::Markdown => {
            anyhow::bail!("findings have no markdown form; use human, json, github, sarif or junit")
        }
        Format::Flagd => {
            anyhow::bail!("findings have no flagd form; use human, json, github, sarif or junit")
        }
    }
    out.flush()?;
    json.flush()?;
    Ok(())
}

/// A table: bordered in a terminal, plain aligned columns when piped.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    if std::io::stdout().is_terminal() {
        table
            .load_style(presets::UTF8_HORIZONTAL_ONLY)
            .set_content_arrangement(ContentArrangement::Disabled);
    } else {
        table
            .load_style(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
    }
    table.set_header(header.to_vec());
    if !std::io::stdout().is_terminal() {
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
    }
    table
}

/// Writes a table to `out`, trimming comfy-table's padding at line ends.
pub fn write_table(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
