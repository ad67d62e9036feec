//! Rendering shared by the commands: findings, config errors, tables.

use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};

use super::{Ctx, Format};
use flagctl::checks::Finding;
use flagctl::repo::{ConfigError, Repo};
use flagctl::report::{self, Report};

/// Prints an invalid `flagctl.toml` as diagnostics on stderr.
pub fn config_error(error: &ConfigError, color: bool) {
    let mut err = std::io::stderr().lock();
    let _ = report::human_problems(&mut err, &error.file, &error.problems, color);
    let _ = writeln!(
        err,
        "error: {} is not valid ({} problem{}); fix it, every command needs it",
        error.file.path,
        error.problems.len(),
        if error.problems.len() == 1 { "" } else { "s" }
    );
}

/// Prints findings in the requested format.
pub fn findings(
    ctx: &Ctx,
    repo: &Repo,
    findings: &[Finding],
    notes: &[String],
) -> anyhow::Result<()> {
    let report = Report {
        as_of: ctx.today,
        files: &repo.files,
        findings,
        notes,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match ctx.format() {
        Format::Human => report::human(&mut out, &report, ctx.color)?,
        Format::Json => report::json(&mut out, &report)?,
        Format::Github => report::github(&mut out, &report)?,
        Format::Sarif => report::sarif(&mut out, &report)?,
        Format::Junit => report::junit(&mut out, &report)?,
        Format::Markdown => {
            anyhow::bail!("findings have no markdown form; use human, json, github, sarif or junit")
        }
        Format::Flagd => {
            anyhow::bail!("findings have no flagd form; use human, json, github, sarif or junit")
        }
    }
    out.flush()?;
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

/// Prints a table, trimming comfy-table's padding at line ends.
pub fn print_table(table: &Table) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write_table(&mut out, table)?;
    out.flush()
}

/// Writes a table to `out`, trimming comfy-table's padding at line ends.
pub fn write_table(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

pub fn json_out(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
