//! The report as GitHub-flavoured Markdown, to paste into an issue or a pull request
//! comment. Everything from the repository is made inert: no HTML, links, mentions or
//! table breaks.

use std::fmt::Write;

use chrono::NaiveDate;

use super::{AGE_BUCKETS, CleanupPreview, CleanupReport, DueItem, OwnerSection, Removal};
use crate::cleanup::Outcome;
use crate::readiness::{CheckName, Verdict};
use crate::refs::Reference;
use crate::remind::escape_markdown;

/// The whole report.
pub fn render(report: &CleanupReport, as_of: NaiveDate) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut out, report, as_of);
    out
}

fn write_report(out: &mut String, report: &CleanupReport, as_of: NaiveDate) -> std::fmt::Result {
    let t = &report.totals;
    writeln!(out, "# Flag cleanup report, {as_of}\n")?;
    writeln!(
        out,
        "**{}** active flags ({} temporary, {} permanent) · **{}** to remove · **{}** ready to archive · **{}** ready for code removal · **{}** reviews due · **{}** expiring within {} days\n",
        t.active,
        t.temporary,
        t.permanent,
        t.to_remove,
        t.ready_to_archive,
        t.ready_for_code_removal,
        t.reviews,
        t.expiring,
        report.within_days
    )?;
    for note in &report.notes {
        writeln!(out, "> **Note:** {}\n", escape_markdown(note))?;
    }
    services(out, report)?;
    for owner in &report.owners {
        owner_section(out, owner, report.within_days)?;
    }
    cleanup(out, &report.cleanup)?;
    ages(out, report)?;
    trend(out, report)?;
    readiness(out, report)
}

fn services(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    writeln!(out, "## Services\n")?;
    if report.services.is_empty() {
        return writeln!(out, "_No active flags._\n");
    }
    writeln!(
        out,
        "| Service | Active / limit | To remove | Ready to archive | Reviews due | Expiring |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|")?;
    for s in &report.services {
        let load = if s.over_limit {
            format!("**{} / {}** (over)", s.active, s.limit)
        } else {
            format!("{} / {}", s.active, s.limit)
        };
        writeln!(
            out,
            "| {} | {load} | {} | {} | {} | {} |",
            code(&s.service),
            s.to_remove,
            s.ready_to_archive,
            s.reviews,
            s.expiring
        )?;
    }
    writeln!(out)
}

fn owner_section(out: &mut String, owner: &OwnerSection, within: u32) -> std::fmt::Result {
    writeln!(out, "## Owner: {}\n", escape_markdown(&owner.owner))?;
    let reach: Vec<String> = [&owner.contact, &owner.slack]
        .into_iter()
        .flatten()
        .map(|r| escape_markdown(r))
        .collect();
    let mut line = format!("{} active {}", owner.active, plural(owner.active, "flag"));
    if !reach.is_empty() {
        line = format!("{} · {line}", reach.join(" · "));
    }
    writeln!(out, "{line}\n")?;
    if owner.remove.is_empty()
        && owner.ready_to_archive.is_empty()
        && owner.reviews.is_empty()
        && owner.expiring.is_empty()
    {
        return writeln!(out, "_Nothing to remove, review or extend._\n");
    }
    if !owner.remove.is_empty() {
        writeln!(out, "### To remove ({})\n", owner.remove.len())?;
        writeln!(out, "| Flag | Why | Keep | Readiness | Next step |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for r in &owner.remove {
            writeln!(
                out,
                "| {} | {}: {} | {} | {} | {} |",
                code(&r.flag),
                r.reason.name(),
                escape_markdown(&r.message),
                r.keep.as_deref().map_or("—".to_string(), code),
                r.readiness.map_or("archived", |r| r.name()),
                escape_markdown(&r.fix)
            )?;
        }
        writeln!(out)?;
        references(out, &owner.remove)?;
    }
    if !owner.ready_to_archive.is_empty() {
        writeln!(
            out,
            "### Ready to archive ({})\n",
            owner.ready_to_archive.len()
        )?;
        let keys: Vec<String> = owner
            .ready_to_archive
            .iter()
            .map(|r| code(&r.flag))
            .collect();
        writeln!(
            out,
            "{}: no code reads them. `flagctl archive --ready` archives every flag ready to archive in one commit.\n",
            keys.join(", ")
        )?;
    }
    due_table(
        out,
        &format!("Reviews due or overdue ({})", owner.reviews.len()),
        &owner.reviews,
    )?;
    due_table(
        out,
        &format!("Expiring within {within} days ({})", owner.expiring.len()),
        &owner.expiring,
    )
}

/// The code that reads each flag to remove.
fn references(out: &mut String, removals: &[Removal]) -> std::fmt::Result {
    let with_code: Vec<&Removal> = removals
        .iter()
        .filter(|r| !r.references.is_empty())
        .collect();
    if with_code.is_empty() {
        return Ok(());
    }
    writeln!(out, "Code to change:\n")?;
    for removal in with_code {
        writeln!(
            out,
            "- {} ({} {})",
            code(&removal.flag),
            removal.references.len(),
            plural(removal.references.len(), "use")
        )?;
        for reference in &removal.references {
            writeln!(out, "  - {}", reference_line(reference))?;
        }
    }
    writeln!(out)
}

/// `path:line` and the line of code.
fn reference_line(reference: &Reference) -> String {
    format!(
        "{}:{} {}",
        escape_markdown(&reference.path),
        reference.line,
        code_span(&reference.text)
    )
}

/// The lines of diff shown for one flag; `cleanup KEY --dry-run` shows the rest.
pub(super) const DIFF_LINES: usize = 60;

/// What `flagctl cleanup KEY` would change, flag by flag.
fn cleanup(out: &mut String, previews: &[CleanupPreview]) -> std::fmt::Result {
    if previews.is_empty() {
        return Ok(());
    }
    writeln!(out, "## What `flagctl cleanup` would change\n")?;
    writeln!(
        out,
        "Planned on the work tree, nothing written: `flagctl cleanup KEY` rewrites the uses and commits them, `--dry-run` prints the whole diff.\n"
    )?;
    for preview in previews {
        writeln!(out, "### {}\n", code(&preview.flag))?;
        if let Some(why) = &preview.refused {
            writeln!(
                out,
                "Owner: {} · cleanup cannot rewrite it: {}\n",
                escape_markdown(&preview.owner),
                escape_markdown(&why.replace("\nhelp: ", "; ").replace('\n', " "))
            )?;
            continue;
        }
        writeln!(
            out,
            "Owner: {} · keeps {} ({}) · {} of {} {} rewritten, {} skipped · {} {}, +{} −{} lines\n",
            escape_markdown(&preview.owner),
            preview.variant.as_deref().map_or("—".to_string(), code),
            preview
                .value
                .as_ref()
                .map_or("—".to_string(), |v| code_span(&v.to_string())),
            preview.rewritten,
            preview.uses,
            plural(preview.uses, "use"),
            preview.skipped,
            preview.files.len(),
            plural(preview.files.len(), "file"),
            preview.lines_added,
            preview.lines_removed
        )?;
        if preview.changes.is_empty() {
            writeln!(
                out,
                "No SDK evaluation of it to rewrite: the code names it otherwise, see the references above.\n"
            )?;
            continue;
        }
        for change in &preview.changes {
            let what = match (change.outcome, &change.reason) {
                (Outcome::Rewritten, _) => "rewritten".to_string(),
                (Outcome::Skipped, Some(why)) => format!("skipped: {}", escape_markdown(why)),
                (Outcome::Skipped, None) => "skipped".to_string(),
            };
            writeln!(
                out,
                "- {}:{} {} — {what}",
                escape_markdown(&change.path),
                change.line,
                code_span(&change.text)
            )?;
        }
        writeln!(out)?;
        let diff = compact_diff(preview);
        if diff.lines.is_empty() {
            continue;
        }
        let fence = "`".repeat(
            3.max(
                diff.lines
                    .iter()
                    .flat_map(|l| l.split(|c| c != '`'))
                    .map(str::len)
                    .max()
                    .unwrap_or(0)
                    + 1,
            ),
        );
        writeln!(
            out,
            "<details><summary>Diff (+{} −{} lines)</summary>\n",
            preview.lines_added, preview.lines_removed
        )?;
        writeln!(out, "{fence}diff")?;
        for line in &diff.lines {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{fence}\n")?;
        if diff.more > 0 {
            writeln!(
                out,
                "… {} more {}: `flagctl cleanup {} --dry-run` prints them.\n",
                diff.more,
                plural(diff.more, "line"),
                preview.flag
            )?;
        }
        writeln!(out, "</details>\n")?;
    }
    Ok(())
}

/// The first [`DIFF_LINES`] lines of a flag's diffs, with nothing in them that would hide
/// what follows, and how many more there are.
pub(super) struct CompactDiff {
    pub lines: Vec<String>,
    pub more: usize,
}

pub(super) fn compact_diff(preview: &CleanupPreview) -> CompactDiff {
    let mut lines = Vec::new();
    let mut more = 0;
    for line in preview.files.iter().flat_map(|f| f.diff.lines()) {
        if lines.len() == DIFF_LINES {
            more += 1;
            continue;
        }
        lines.push(
            line.chars()
                .map(|c| {
                    if (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}' {
                        ' '
                    } else {
                        c
                    }
                })
                .collect(),
        );
    }
    CompactDiff { lines, more }
}

fn due_table(out: &mut String, title: &str, items: &[DueItem]) -> std::fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "### {title}\n")?;
    writeln!(out, "| Flag | Due | What | Next step |")?;
    writeln!(out, "|---|---|---|---|")?;
    for item in items {
        writeln!(
            out,
            "| {} | {} {} ({}) | {} | {} |",
            code(&item.flag),
            item.due_field,
            item.due,
            item.due_relative,
            escape_markdown(&item.message),
            escape_markdown(&item.fix)
        )?;
    }
    writeln!(out)
}

fn ages(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    writeln!(out, "## Age of live flags by kind\n")?;
    if report.ages.is_empty() {
        return writeln!(out, "_No live flags._\n");
    }
    writeln!(
        out,
        "| Kind | Live | Median age | Oldest | {} |",
        AGE_BUCKETS.join(" | ")
    )?;
    writeln!(out, "|---|--:|--:|---|--:|--:|--:|--:|")?;
    for age in &report.ages {
        writeln!(
            out,
            "| {}{} | {} | {} days | {} ({} days) | {} |",
            code(&age.kind),
            if age.temporary { "" } else { " (permanent)" },
            age.live,
            age.median_days,
            code(&age.oldest),
            age.oldest_days,
            age.buckets.map(|b| b.to_string()).join(" | ")
        )?;
    }
    writeln!(out)
}

fn trend(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    let Some(trend) = &report.trend else {
        return Ok(());
    };
    let (Some(first), Some(last)) = (trend.weeks.first(), trend.weeks.last()) else {
        return Ok(());
    };
    writeln!(
        out,
        "## Trend over {} {}\n",
        trend.weeks.len(),
        plural(trend.weeks.len(), "week")
    )?;
    writeln!(
        out,
        "Live flags: **{}** in the week of {} → **{}** now ({}). Created {}, archived {}; {}.\n",
        first.live,
        first.start,
        last.live,
        trend.change_words(),
        trend.created,
        trend.archived,
        trend.median_words()
    )?;
    writeln!(out, "<details><summary>Week by week</summary>\n")?;
    writeln!(out, "| Week of | Live | Created | Archived |")?;
    writeln!(out, "|---|--:|--:|--:|")?;
    for week in &trend.weeks {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            week.start, week.live, week.created, week.archived
        )?;
    }
    writeln!(out, "\n</details>\n")
}

fn readiness(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    writeln!(out, "## Removal readiness\n")?;
    if report.readiness.is_empty() {
        return writeln!(out, "_No active flags._");
    }
    let names: Vec<&str> = CheckName::ALL.iter().map(|c| c.name()).collect();
    writeln!(out, "| Flag | Owner | Readiness | {} |", names.join(" | "))?;
    writeln!(out, "|---|---|---|{}", ":-:|".repeat(names.len()))?;
    for flag in &report.readiness {
        let verdicts: Vec<&str> = CheckName::ALL
            .iter()
            .map(|name| flag.check(*name).map_or(" ", |c| symbol(c.verdict)))
            .collect();
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            code(&flag.flag),
            escape_markdown(&flag.owner),
            flag.readiness.name(),
            verdicts.join(" | ")
        )?;
    }
    writeln!(out, "\n✅ pass · ❌ fail · ❔ unknown\n")?;
    writeln!(out, "<details><summary>Why, flag by flag</summary>\n")?;
    for flag in &report.readiness {
        writeln!(out, "- {} — {}", code(&flag.flag), flag.readiness.name())?;
        for check in &flag.checks {
            writeln!(
                out,
                "  - {} {}: {}",
                symbol(check.verdict),
                check.check.name(),
                escape_markdown(&check.reason)
            )?;
        }
    }
    writeln!(out, "\n</details>")
}

fn symbol(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Unknown => "❔",
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// A name as code when it is plain (keys, services and kinds always are), else escaped
/// text: a code span would show `&lt;` as it is.
fn code(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@/:+".contains(c));
    if plain {
        format!("`{text}`")
    } else {
        escape_markdown(text)
    }
}

/// Any text as a code span: fenced with more backticks than it holds in a row, on one
/// line, so nothing in it is read as Markdown or HTML.
fn code_span(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::{DIFF_LINES, cleanup, code, code_span, compact_diff};
    use crate::report::cleanup::{CleanupPreview, PreviewFile};

    #[test]
    fn a_long_diff_is_cut_and_fenced_longer_than_any_backticks_it_holds() {
        let mut diff = String::from("--- a/x.md\n+++ b/x.md\n@@ -1,70 +1,0 @@\n-````\n");
        for n in 0..70 {
            diff.push_str(&format!("-line {n}\u{1b}[2J\n"));
        }
        let preview = CleanupPreview {
            flag: "x".into(),
            owner: "@me".into(),
            variant: Some("on".into()),
            value: Some(serde_json::Value::Bool(true)),
            refused: None,
            uses: 1,
            rewritten: 1,
            skipped: 0,
            lines_added: 0,
            lines_removed: 71,
            files: vec![PreviewFile {
                path: "x.md".into(),
                lines_added: 0,
                lines_removed: 71,
                diff,
            }],
            changes: Vec::new(),
        };
        let compact = compact_diff(&preview);
        assert_eq!(compact.lines.len(), DIFF_LINES);
        assert_eq!(compact.more, 74 - DIFF_LINES);
        assert_eq!(compact.lines[4], "-line 0 [2J");
        let mut out = String::new();
        let mut with_a_use = preview.clone();
        with_a_use.changes = vec![crate::cleanup::Use {
            flag: "x".into(),
            path: "x.md".into(),
            line: 1,
            column: 1,
            kind: crate::refs::RefKind::Call,
            method: None,
            outcome: crate::cleanup::Outcome::Rewritten,
            reason: None,
            text: "flag(x)".into(),
        }];
        cleanup(&mut out, &[with_a_use]).unwrap();
        assert!(out.contains("\n`````diff\n--- a/x.md\n"), "{out}");
        assert!(out.contains("\n`````\n"), "{out}");
        assert!(out.contains("… 14 more lines: `flagctl cleanup x --dry-run` prints them."));
    }

    #[test]
    fn repository_text_stays_text() {
        assert_eq!(code("ranker-v2"), "`ranker-v2`");
        assert_eq!(code("a|b <x>"), "a\\|b &lt;x&gt;");
        assert_eq!(code_span("if flag(`x`) <b>"), "``if flag(`x`) <b>``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
        assert_eq!(code_span("a\u{1b}b"), "`a b`");
    }
}
