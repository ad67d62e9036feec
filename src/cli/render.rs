//! Rendering shared by the commands: findings, errors, tables.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use comfy_table::{
    ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle, Width, presets,
};

use super::terminal::{self, tell};
use super::{Ctx, Format, output};
use flagctl::checks::{Finding, config_findings};
use flagctl::model::SourceFile;
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
        code: &[],
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
    findings_in_detail(ctx, repo, findings, notes, Detail::Diagnostics)
}

/// Prints findings that point into one file other than a flag file (the flagd file of
/// `validate --flagd`), in the requested format.
pub fn flagd_findings(ctx: &Ctx, source: &SourceFile, findings: &[Finding]) -> anyhow::Result<()> {
    let report = Report {
        config: Some(source),
        findings,
        ..empty_report(ctx)
    };
    write_report(ctx, &report)
}

/// How much of a report people read (`--format human`); the other formats print the
/// whole document whatever it says.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every diagnostic, the table by service and owner, the summary line; notes on stderr.
    Diagnostics,
    /// The count of findings per rule, then the summary line (`audit --statistics`).
    Statistics,
    /// The summary line alone, and no notes on stderr (`audit --quiet`).
    Quiet,
}

/// Prints findings in the requested format, in `detail` for people.
pub fn findings_in_detail(
    ctx: &Ctx,
    repo: &Repo,
    findings: &[Finding],
    notes: &[String],
    detail: Detail,
) -> anyhow::Result<()> {
    // Code findings (`audit --refs`) quote their line when people read them.
    let code: Vec<SourceFile> = if ctx.format() == Format::Human {
        let mut paths: Vec<&str> = findings
            .iter()
            .map(|f| f.path.as_str())
            .filter(|path| !repo.files.iter().any(|file| file.source.path == *path))
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths
            .into_iter()
            .filter_map(|path| {
                let text = flagctl::repo::confine::read_text(&repo.root, path).ok()??;
                Some(SourceFile::new(path, text))
            })
            .collect()
    } else {
        Vec::new()
    };
    let report = Report {
        files: &repo.files,
        code: &code,
        findings,
        notes,
        ..empty_report(ctx)
    };
    write_report_in_detail(ctx, &report, detail)
}

/// Prints a report on stdout in the requested format, in full.
fn write_report(ctx: &Ctx, report: &Report) -> anyhow::Result<()> {
    write_report_in_detail(ctx, report, Detail::Diagnostics)
}

/// Prints a report on stdout in the requested format. Its notes also go to stderr,
/// where people read them, except with `github`, whose notices are the log already,
/// and with [`Detail::Quiet`].
fn write_report_in_detail(ctx: &Ctx, report: &Report, detail: Detail) -> anyhow::Result<()> {
    if ctx.format() != Format::Github && detail != Detail::Quiet {
        for note in report.notes {
            tell!("note: {note}");
        }
    }
    // JSON documents escape what they carry themselves; a text escape would break them.
    let mut json = std::io::BufWriter::new(std::io::stdout().lock());
    let mut out = terminal::stdout(ctx.color, ctx.format() != Format::Github);
    match ctx.format() {
        Format::Human => match detail {
            Detail::Diagnostics => report::human(&mut out, report, ctx.color)?,
            Detail::Statistics => report::human_statistics(&mut out, report)?,
            Detail::Quiet => report::human_summary(&mut out, report)?,
        },
        Format::Json => report::json(&mut json, report)?,
        Format::Github => report::github(&mut out, report)?,
        Format::Sarif => report::sarif(&mut json, report)?,
        Format::Junit => report::junit(&mut out, report)?,
        Format::Markdown | Format::Html => {
            anyhow::bail!(
                "findings have no markdown or html form; use human, json, github, sarif or junit"
            )
        }
        Format::Flagd => {
            anyhow::bail!("findings have no flagd form; use human, json, github, sarif or junit")
        }
    }
    out.flush()?;
    json.flush()?;
    Ok(())
}

/// Where a table is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A terminal: a line above and below and under the header, no line between rows, and
    /// within the terminal's width when it is known.
    Terminal { width: Option<u16> },
    /// A pipe or a file: plain columns as wide as their content, for `cut` and `awk`.
    Plain,
}

impl Layout {
    /// Standard output's layout.
    pub fn stdout() -> Layout {
        if std::io::stdout().is_terminal() {
            // comfy-table asks the terminal; a pseudo-terminal may not know (0).
            let width = Table::new().width().filter(|&width| width > 0);
            Layout::Terminal { width }
        } else {
            Layout::Plain
        }
    }
}

/// The terminal style: a line above, under the header and below, but none between rows
/// (which doubled the height of every table).
const TERMINAL: TableStyle = presets::UTF8_HORIZONTAL_ONLY.row_separator(LineStyle::none());

/// A table for standard output: bordered in a terminal, plain aligned columns when piped.
pub fn table(header: &[&str]) -> Table {
    table_in(Layout::stdout(), header)
}

/// A table laid out for `layout`.
pub fn table_in(layout: Layout, header: &[&str]) -> Table {
    let mut table = Table::new();
    // The layout decides, not comfy-table's own look at standard output.
    table
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_truncation_indicator("…");
    match layout {
        Layout::Terminal { width } => {
            table.load_style(TERMINAL);
            if let Some(width) = width {
                table.set_width(width);
            }
        }
        Layout::Plain => {
            table.load_style(presets::NOTHING);
        }
    }
    table.set_header(header.to_vec());
    // Two spaces between columns either way: a pipe's are padding, a terminal's one space
    // of padding and the blank vertical line of its style.
    let padding = match layout {
        Layout::Terminal { .. } => (1, 0),
        Layout::Plain => (0, 2),
    };
    for column in table.column_iter_mut() {
        column.set_padding(padding);
    }
    table
}

/// Lets `table` colour the cells given a colour, when colour is on: `--color`,
/// `NO_COLOR` and the terminal decide, once, in `cli`. comfy-table colours through
/// crossterm, which would read NO_COLOR again on its own and drop what `--color always`
/// asks for.
pub fn allow_colour(table: &mut Table, color: bool) {
    if color {
        crossterm::style::Colored::set_ansi_color_disabled(false);
        table.enforce_styling();
    }
}

/// How a column gives way when its table is wider than the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Give {
    /// Always shown whole.
    Keep,
    /// Wide free text (keys, values, owners): cut short with `…`, first and widest first,
    /// but never below this many characters (nor below its header).
    Cut(u16),
    /// Left out when cutting is not enough: rank 1 first, then 2, …
    Hide(u8),
}

/// Keeps a terminal table within its width: cuts the [`Give::Cut`] columns, leaving out
/// as few [`Give::Hide`] columns as it takes for the cuts to be enough. Call it after
/// the rows are added; a table without a width (piped) is left as it is. `gives` has
/// one entry per column. The styles of [`table_in`] have no left or right border.
pub fn fit(table: &mut Table, gives: &[Give]) {
    let Some(budget) = table.width() else {
        return;
    };
    let content = table.column_max_content_widths();
    let padding: Vec<u16> = table.column_iter().map(|c| c.padding_width()).collect();
    let header: Vec<u16> = table.header().map_or_else(Vec::new, |header| {
        // Headers are flagctl's own ASCII words.
        let width = |text: String| u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
        header
            .cell_iter()
            .map(|cell| width(cell.content()))
            .collect()
    });
    let floor = |index: usize, min: u16| min.max(header.get(index).copied().unwrap_or(0));
    let mut hide_order: Vec<(u8, usize)> = gives
        .iter()
        .enumerate()
        .filter_map(|(index, give)| match give {
            Give::Hide(rank) => Some((*rank, index)),
            _ => None,
        })
        .collect();
    hide_order.sort_unstable();
    // comfy-table draws a (blank) vertical line between columns when any part of the
    // style has junctions: one more column each.
    let style = table.style();
    let lines = [
        style.top_border,
        style.header_separator,
        style.row_separator,
        style.bottom_border,
    ];
    let between = u32::from(
        lines.iter().any(|line| line.junction.is_some())
            || [style.header_lines, style.content_lines]
                .iter()
                .any(|line| line.junction.is_some()),
    );
    let mut widths: Vec<u16> = content.clone();
    let mut hidden = vec![false; content.len()];
    for hiding in 0..=hide_order.len() {
        hidden.fill(false);
        for &(_, index) in &hide_order[..hiding] {
            hidden[index] = true;
        }
        widths.clone_from(&content);
        let visible = hidden.iter().filter(|&&hidden| !hidden).count() as u32;
        let total: u32 = (0..content.len())
            .filter(|&i| !hidden[i])
            .map(|i| u32::from(content[i]) + u32::from(padding[i]))
            .sum::<u32>()
            + between * visible.saturating_sub(1);
        let mut excess = total.saturating_sub(u32::from(budget));
        // Cut the widest column that may still give, one character at a time.
        while excess > 0 {
            let widest = (0..content.len())
                .filter(|&i| !hidden[i])
                .filter(
                    |&i| matches!(gives.get(i), Some(Give::Cut(min)) if widths[i] > floor(i, *min)),
                )
                .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
            let Some(widest) = widest else { break };
            widths[widest] -= 1;
            excess -= 1;
        }
        if excess == 0 {
            break;
        }
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        if hidden[index] {
            column.set_constraint(ColumnConstraint::Hidden);
        } else if widths[index] < content[index] {
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(
                widths[index] + padding[index],
            )));
        }
    }
    for row in table.row_iter_mut() {
        row.max_height(1);
    }
}

/// Writes a table to `out`, trimming comfy-table's padding at line ends.
pub fn write_table(out: &mut dyn Write, table: &Table) -> std::io::Result<()> {
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of a table of `rows` laid out for `layout`, fitted with `gives`.
    fn fitted(layout: Layout, rows: &[[&str; 4]], gives: &[Give; 4]) -> Vec<String> {
        let mut table = table_in(layout, &["KEY", "NOTE", "KIND", "STATUS"]);
        for row in rows {
            table.add_row(row.to_vec());
        }
        fit(&mut table, gives);
        let mut out = Vec::new();
        write_table(&mut out, &table).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    const ROWS: [[&str; 4]; 2] = [
        [
            "ranker-diversity-threshold",
            "a long note about the flag",
            "parameter",
            "expired",
        ],
        ["ranker-v2", "short", "experiment", "live"],
    ];
    const GIVES: [Give; 4] = [Give::Cut(12), Give::Cut(8), Give::Hide(1), Give::Keep];

    fn widest(lines: &[String]) -> usize {
        lines.iter().map(|l| l.chars().count()).max().unwrap()
    }

    #[test]
    fn a_wide_enough_terminal_shows_everything_whole() {
        let lines = fitted(Layout::Terminal { width: Some(100) }, &ROWS, &GIVES);
        assert_eq!(lines.len(), 6, "no line between rows: {lines:#?}");
        assert!(lines[3].contains("ranker-diversity-threshold  a long note"));
        assert!(lines[4].contains("experiment"));
    }

    #[test]
    fn free_text_is_cut_first_widest_first() {
        let lines = fitted(Layout::Terminal { width: Some(70) }, &ROWS, &GIVES);
        assert!(widest(&lines) <= 70, "{lines:#?}");
        assert!(lines[1].contains("KIND"), "nothing hidden: {lines:#?}");
        assert!(lines[3].contains('…'), "{lines:#?}");
        assert!(lines[3].contains("expired") && lines[4].contains("live"));
    }

    #[test]
    fn columns_are_left_out_when_cutting_is_not_enough() {
        let lines = fitted(Layout::Terminal { width: Some(40) }, &ROWS, &GIVES);
        assert!(widest(&lines) <= 40, "{lines:#?}");
        assert!(!lines[1].contains("KIND"), "{lines:#?}");
        assert!(!lines.iter().any(|l| l.contains("parameter")), "{lines:#?}");
        // Hiding KIND left room: the cuts are smaller than they would have to be without.
        assert!(
            lines[3].starts_with(" ranker-divers…  a long note…"),
            "{lines:#?}"
        );
        assert!(lines[3].ends_with("expired"), "{lines:#?}");
    }

    #[test]
    fn piped_tables_stay_whole_and_plain() {
        let lines = fitted(Layout::Plain, &ROWS, &GIVES);
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[1],
            "ranker-diversity-threshold  a long note about the flag  parameter   expired"
        );
    }
}
