//! `--format human`: diagnostics pointing into the files, then a summary line.

use std::io::Write;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, Styles, StylesWriter, termcolor};

use super::Report;
use crate::checks::{Finding, RuleId, Severity};
use crate::model::config::CONFIG_FILE;
use crate::model::{Problem, SourceFile};

/// The most diagnostics shown for one file; the rest are counted (`--format json` lists
/// them all). A hostile file can hold thousands of problems.
const MAX_PER_FILE: usize = 20;
/// The longest source line shown under a diagnostic, and the most lines a span may
/// cover; beyond either the diagnostic names the place instead of quoting it.
const MAX_LINE: usize = 240;
const MAX_SPAN_LINES: usize = 6;
/// The longest message shown: messages quote values from the files.
const MAX_MESSAGE: usize = 400;

pub fn render(out: &mut dyn Write, report: &Report, color: bool) -> std::io::Result<()> {
    let mut files = SimpleFiles::new();
    // Only the files findings point into: each added file has its lines indexed.
    let cited: std::collections::HashSet<&str> =
        report.findings.iter().map(|f| f.path.as_str()).collect();
    let sources: std::collections::HashMap<&str, (usize, &str)> = report
        .sources()
        .filter(|source| cited.contains(source.path.as_str()))
        .map(|source| {
            (
                source.path.as_str(),
                (
                    files.add(source.path.as_str(), source.text.as_str()),
                    source.text.as_str(),
                ),
            )
        })
        .collect();
    let mut shown: (&str, usize) = ("", 0);
    for (index, finding) in report.findings.iter().enumerate() {
        if shown.0 != finding.path {
            shown = (&finding.path, 0);
        }
        shown.1 += 1;
        if shown.1 > MAX_PER_FILE {
            let rest = report.findings[index..]
                .iter()
                .take_while(|f| f.path == finding.path)
                .count();
            if shown.1 == MAX_PER_FILE + 1 {
                writeln!(
                    out,
                    "… and {} more in {} (`--format json` lists them all)\n",
                    plural(rest, "finding"),
                    finding.path
                )?;
            }
            continue;
        }
        let file_id = sources
            .get(finding.path.as_str())
            .filter(|(_, text)| quotable(text, &finding.span))
            .map(|(id, _)| *id);
        emit(out, &files, &diagnostic(finding, file_id), color)?;
    }
    if report.findings.len() > 1 {
        summary_table(out, report)?;
    }
    summary(out, report)
}

/// `audit --quiet`: the summary line alone.
pub fn summary(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
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

/// `audit --statistics`, instead of the diagnostics: how many findings each rule has,
/// most first (then by rule), with the rule's summary; then the summary line.
pub fn statistics(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let mut counts: std::collections::BTreeMap<(RuleId, Severity), usize> = Default::default();
    for finding in report.findings {
        *counts.entry((finding.rule, finding.severity)).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|&(rule, count)| (std::cmp::Reverse(count), rule));
    if !counts.is_empty() {
        let rows = counts.into_iter().map(|((rule, severity), count)| {
            vec![
                count.to_string(),
                rule.name().to_string(),
                severity.name().to_string(),
                rule.summary().to_string(),
            ]
        });
        plain_table(
            out,
            &["COUNT", "RULE", "SEVERITY", "WHAT IT FINDS"],
            rows,
            true,
        )?;
    }
    summary(out, report)
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
    let rows = counts
        .into_iter()
        .map(|((service, owner), (errors, warnings))| {
            vec![
                service.to_string(),
                owner.to_string(),
                errors.to_string(),
                warnings.to_string(),
            ]
        });
    plain_table(
        out,
        &["SERVICE", "OWNER", "ERRORS", "WARNINGS"],
        rows,
        false,
    )
}

/// An aligned table without lines, then a blank line; the first column right-aligned
/// when it holds numbers.
fn plain_table(
    out: &mut dyn Write,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
    numbers_first: bool,
) -> std::io::Result<()> {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    if numbers_first && let Some(column) = table.column_mut(0) {
        column.set_cell_alignment(comfy_table::CellAlignment::Right);
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
    for problem in problems.iter().take(MAX_PER_FILE) {
        let labels = if quotable(&file.text, &problem.span) {
            vec![Label::primary(id, problem.span.clone())]
        } else {
            Vec::new()
        };
        let mut diagnostic = Diagnostic::error()
            .with_message(clip(&problem.message))
            .with_labels(labels);
        if let Some(help) = &problem.help {
            diagnostic = diagnostic.with_notes(vec![format!("help: {help}")]);
        }
        emit(out, &files, &diagnostic, color)?;
    }
    if problems.len() > MAX_PER_FILE {
        writeln!(
            out,
            "… and {} more in {}\n",
            plural(problems.len() - MAX_PER_FILE, "problem"),
            file.path
        )?;
    }
    Ok(())
}

/// Whether the lines of `span` are short and few enough to quote under a diagnostic.
fn quotable(text: &str, span: &std::ops::Range<usize>) -> bool {
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    let first = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let last = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let lines = &text.as_bytes()[first..last];
    lines.split(|b| *b == b'\n').count() <= MAX_SPAN_LINES
        && lines
            .split(|b| *b == b'\n')
            .all(|line| line.len() <= MAX_LINE)
}

/// A message cut to [`MAX_MESSAGE`] characters.
fn clip(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE) {
        Some((at, _)) => format!("{}… ({} bytes in all)", &message[..at], message.len()),
        None => message.to_string(),
    }
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
        .with_message(clip(&finding.message))
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
