//! `--format human`: diagnostics pointing into the files, then a summary line.

use std::io::Write;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter, termcolor};

use super::Report;
use crate::checks::{Finding, Severity};
use crate::model::config::CONFIG_FILE;
use crate::model::{Problem, SourceFile};

pub fn render(out: &mut dyn Write, report: &Report, color: bool) -> std::io::Result<()> {
    let mut files = SimpleFiles::new();
    let ids: std::collections::HashMap<&str, usize> = report
        .sources()
        .map(|source| {
            (
                source.path.as_str(),
                files.add(source.path.as_str(), source.text.as_str()),
            )
        })
        .collect();
    for finding in report.findings {
        let file_id = ids.get(finding.path.as_str()).copied();
        emit(out, &files, &diagnostic(finding, file_id), color)?;
    }
    if report.findings.len() > 1 {
        summary_table(out, report)?;
    }
    let summary = report.summary();
    let flags = report.files.len();
    if !report.completed() {
        return writeln!(
            out,
            "{CONFIG_FILE} is not valid ({}): no flag was checked; fix it, every command needs it",
            plural(summary.errors, "problem")
        );
    }
    if report.findings.is_empty() {
        writeln!(out, "{} checked: no findings", plural(flags, "flag file"))
    } else {
        writeln!(
            out,
            "{}, {} in {}",
            plural(summary.errors, "error"),
            plural(summary.warnings, "warning"),
            plural(flags, "flag file")
        )
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Errors and warnings by service and owner: who has what to do.
fn summary_table(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let mut counts: std::collections::BTreeMap<(&str, &str), (usize, usize)> = Default::default();
    for finding in report.findings {
        let key = (
            finding.service.as_deref().unwrap_or("-"),
            finding.owner.as_deref().unwrap_or("-"),
        );
        let entry = counts.entry(key).or_default();
        match finding.severity {
            Severity::Error => entry.0 += 1,
            Severity::Warning => entry.1 += 1,
        }
    }
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_header(vec!["SERVICE", "OWNER", "ERRORS", "WARNINGS"]);
    for ((service, owner), (errors, warnings)) in counts {
        table.add_row(vec![
            service.to_string(),
            owner.to_string(),
            errors.to_string(),
            warnings.to_string(),
        ]);
    }
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)
}

/// Problems of one file (such as an invalid `flagctl.toml`) as error diagnostics.
pub fn problems(
    out: &mut dyn Write,
    file: &SourceFile,
    problems: &[Problem],
    color: bool,
) -> std::io::Result<()> {
    let mut files = SimpleFiles::new();
    let id = files.add(file.path.as_str(), file.text.as_str());
    for problem in problems {
        let mut diagnostic = Diagnostic::error()
            .with_message(&problem.message)
            .with_labels(vec![Label::primary(id, problem.span.clone())]);
        if let Some(help) = &problem.help {
            diagnostic = diagnostic.with_notes(vec![format!("help: {help}")]);
        }
        emit(out, &files, &diagnostic, color)?;
    }
    Ok(())
}

fn diagnostic(finding: &Finding, file_id: Option<usize>) -> Diagnostic<usize> {
    let base = match finding.severity {
        Severity::Error => Diagnostic::error(),
        Severity::Warning => Diagnostic::warning(),
    };
    let mut notes = Vec::new();
    let labels = match file_id {
        Some(id) => vec![Label::primary(id, finding.span.clone())],
        None => {
            notes.push(format!(
                "at {}:{}:{}",
                finding.path, finding.line, finding.column
            ));
            Vec::new()
        }
    };
    if let Some(help) = &finding.help {
        notes.push(format!("help: {help}"));
    }
    base.with_code(finding.rule.name())
        .with_message(&finding.message)
        .with_labels(labels)
        .with_notes(notes)
}

fn emit(
    out: &mut dyn Write,
    files: &SimpleFiles<&str, &str>,
    diagnostic: &Diagnostic<usize>,
    color: bool,
) -> std::io::Result<()> {
    let config = Config::default();
    let result = if color {
        let styles = Styles::default();
        let mut writer = StylesWriter::new(termcolor::Ansi::new(&mut *out), &styles);
        term::emit_to_write_style(&mut writer, &config, files, diagnostic)
    } else {
        term::emit_to_io_write(&mut *out, &config, files, diagnostic)
    };
    result.map_err(|e| match e {
        codespan_reporting::files::Error::Io(io) => io,
        other => std::io::Error::other(other.to_string()),
    })
}
