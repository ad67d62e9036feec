//! The report as one self-contained HTML page: inline CSS and SVG charts, no script,
//! font or image from anywhere (a Content-Security-Policy says so to the browser), so it
//! opens offline and can be attached to a ticket. Everything from the repository is
//! escaped: a description holding `<script>` shows as text.

use std::fmt::Write;

use chrono::NaiveDate;

use super::markdown::compact_diff;
use super::{AGE_BUCKETS, CleanupPreview, CleanupReport, DueItem, OwnerSection, charts};
use crate::cleanup::Outcome;
use crate::output::is_hidden;
use crate::readiness::{CheckName, Readiness, Verdict};

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa;
  --pass: #1a7f37; --fail: #cf222e; --unknown: #9a6700; --accent: #0072b2; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); margin: 0 auto; padding: 24px 32px 64px; max-width: 1180px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 8px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 19px; margin: 26px 0 4px; }
h4 { font-size: 16px; margin: 18px 0 6px; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 140px; background: var(--bg2); }
.card b { display: block; font-size: 26px; }
.card.alert b { color: var(--fail); }
.note { border-left: 4px solid var(--unknown); background: #fff8c5; padding: 6px 12px; margin: 6px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.v { text-align: center; font-weight: 700; }
td.pass { color: var(--pass); } td.fail { color: var(--fail); } td.unknown { color: var(--unknown); }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg2);
  padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.ready-to-archive { background: #dafbe1; color: #116329; }
.ready-for-code-removal { background: #ddf4ff; color: #0550ae; }
.not-ready { background: #eff2f5; color: var(--muted); }
.over { color: var(--fail); font-weight: 700; }
.desc { display: block; color: var(--muted); font-size: 12px; }
figure.chart { margin: 12px 0; max-width: 900px; }
figure.chart svg { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 8px; }
td:first-child code { white-space: nowrap; }
details { margin: 6px 0 12px; } summary { cursor: pointer; color: var(--accent); }
ul.refs { margin: 4px 0 12px; padding-left: 20px; } ul.refs li { margin: 2px 0; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
pre.diff { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg2);
  border: 1px solid var(--line); border-radius: 6px; padding: 8px 0; overflow-x: auto; }
pre.diff span { display: block; padding: 0 10px; white-space: pre; }
pre.diff .add { background: #dafbe1; } pre.diff .del { background: #ffebe9; } pre.diff .hunk { color: var(--muted); }
.skipped { color: var(--unknown); font-weight: 600; } .rewritten { color: var(--pass); font-weight: 600; }
"#;

/// The whole page.
pub fn render(report: &CleanupReport, as_of: NaiveDate) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = page(&mut out, report, as_of);
    out
}

/// Text from anywhere made inert in HTML (also in attribute values); characters that
/// would hide what follows are shown as visible escapes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_hidden(c) && c != '\n' && c != '\t' => {
                out.extend(c.escape_default());
            }
            c => out.push(c),
        }
    }
    out
}

/// One of flagctl's own sentences, escaped, with its `quoted` names shown as code.
fn rich(text: &str) -> String {
    let mut out = String::new();
    for (index, part) in escape(text).split('`').enumerate() {
        if index % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn page(out: &mut String, report: &CleanupReport, as_of: NaiveDate) -> std::fmt::Result {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>Flag cleanup report, {as_of}</title>\n<style>{STYLE}</style>\n</head>\n<body>"
    )?;
    writeln!(out, "<h1>Flag cleanup report</h1>")?;
    writeln!(
        out,
        "<p class=\"muted\">As of {as_of} · reviews and expiries within {} days · code {}</p>",
        report.within_days,
        if report.code.scanned {
            format!("scanned ({} files)", report.code.files)
        } else {
            "not scanned".to_string()
        }
    )?;
    writeln!(
        out,
        "<nav><a href=\"#trend\">Trend</a><a href=\"#ages\">Age</a><a href=\"#services\">Services</a><a href=\"#owners\">Owners</a>{}<a href=\"#readiness\">Readiness</a></nav>",
        if report.cleanup.is_empty() {
            ""
        } else {
            "<a href=\"#cleanup\">Cleanup</a>"
        }
    )?;
    cards(out, report)?;
    for note in &report.notes {
        writeln!(out, "<p class=\"note\">{}</p>", escape(note))?;
    }
    trend(out, report)?;
    ages(out, report)?;
    services(out, report)?;
    writeln!(out, "<h2 id=\"owners\">Owners</h2>")?;
    for owner in &report.owners {
        owner_section(out, owner, report.within_days)?;
    }
    cleanup(out, &report.cleanup)?;
    readiness(out, report)?;
    writeln!(out, "</body>\n</html>")
}

fn cards(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    let t = &report.totals;
    let cards = [
        ("active flags", t.active, false),
        ("to remove", t.to_remove, t.to_remove > 0),
        ("ready to archive", t.ready_to_archive, false),
        ("ready for code removal", t.ready_for_code_removal, false),
        ("reviews due", t.reviews, t.reviews > 0),
        ("expiring soon", t.expiring, false),
    ];
    writeln!(out, "<div class=\"cards\">")?;
    for (label, count, alert) in cards {
        let class = if alert { "card alert" } else { "card" };
        writeln!(out, "<div class=\"{class}\"><b>{count}</b>{label}</div>")?;
    }
    writeln!(out, "</div>")
}

fn trend(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    writeln!(out, "<h2 id=\"trend\">Trend</h2>")?;
    let Some(trend) = report.trend.as_ref().filter(|t| !t.weeks.is_empty()) else {
        return writeln!(
            out,
            "<p class=\"muted\">No trend: it needs git history.</p>"
        );
    };
    let (first, last) = (&trend.weeks[0], &trend.weeks[trend.weeks.len() - 1]);
    writeln!(
        out,
        "<p>Live flags: <b>{}</b> in the week of {} → <b>{}</b> now ({}). Created {}, archived {} over {} weeks; {}.</p>",
        first.live,
        first.start,
        last.live,
        trend.change_words(),
        trend.created,
        trend.archived,
        trend.weeks.len(),
        trend.median_words()
    )?;
    writeln!(out, "<div class=\"charts\">")?;
    writeln!(
        out,
        "<figure class=\"chart\">{}</figure>",
        charts::live_flags(&trend.weeks)
    )?;
    writeln!(
        out,
        "<figure class=\"chart\">{}</figure>",
        charts::created_vs_archived(&trend.weeks)
    )?;
    writeln!(
        out,
        "<details><summary>Week by week</summary>\n<table><thead><tr><th>Week of</th><th class=\"num\">Live</th><th class=\"num\">Created</th><th class=\"num\">Archived</th></tr></thead><tbody>"
    )?;
    for week in &trend.weeks {
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            week.start, week.live, week.created, week.archived
        )?;
    }
    writeln!(out, "</tbody></table></details>")
}

fn ages(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    writeln!(out, "<h2 id=\"ages\">Age of live flags by kind</h2>")?;
    if report.ages.is_empty() {
        return writeln!(out, "<p class=\"muted\">No live flags.</p>");
    }
    writeln!(
        out,
        "<figure class=\"chart\">{}</figure>",
        charts::ages_by_kind(&report.ages)
    )?;
    write!(
        out,
        "<table><thead><tr><th>Kind</th><th class=\"num\">Live</th><th class=\"num\">Median age</th><th>Oldest</th>"
    )?;
    for label in AGE_BUCKETS {
        write!(out, "<th class=\"num\">{}</th>", escape(label))?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for age in &report.ages {
        write!(
            out,
            "<tr><td><code>{}</code>{}</td><td class=\"num\">{}</td><td class=\"num\">{} days</td><td><code>{}</code> ({} days)</td>",
            escape(&age.kind),
            if age.temporary {
                ""
            } else {
                " <span class=\"muted\">permanent</span>"
            },
            age.live,
            age.median_days,
            escape(&age.oldest),
            age.oldest_days
        )?;
        for count in age.buckets {
            write!(out, "<td class=\"num\">{count}</td>")?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")
}

fn services(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    writeln!(out, "<h2 id=\"services\">Services</h2>")?;
    if report.services.is_empty() {
        return writeln!(out, "<p class=\"muted\">No active flags.</p>");
    }
    writeln!(
        out,
        "<table><thead><tr><th>Service</th><th class=\"num\">Active / limit</th><th>Owners</th><th class=\"num\">To remove</th><th class=\"num\">Ready to archive</th><th class=\"num\">Reviews due</th><th class=\"num\">Expiring</th></tr></thead><tbody>"
    )?;
    for s in &report.services {
        let class = if s.over_limit { "num over" } else { "num" };
        let owners: Vec<String> = s.owners.iter().map(|o| escape(o)).collect();
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"{class}\">{} / {}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&s.service),
            s.active,
            s.limit,
            owners.join(", "),
            s.to_remove,
            s.ready_to_archive,
            s.reviews,
            s.expiring
        )?;
    }
    writeln!(out, "</tbody></table>")
}

fn badge(readiness: Option<Readiness>) -> String {
    match readiness {
        Some(r) => {
            let class = match r {
                Readiness::ReadyToArchive => "ready-to-archive",
                Readiness::ReadyForCodeRemoval => "ready-for-code-removal",
                Readiness::NotReady => "not-ready",
            };
            format!("<span class=\"badge {class}\">{}</span>", r.name())
        }
        None => "<span class=\"badge not-ready\">archived</span>".to_string(),
    }
}

fn owner_section(out: &mut String, owner: &OwnerSection, within: u32) -> std::fmt::Result {
    writeln!(
        out,
        "<section class=\"owner\">\n<h3>{}</h3>",
        escape(&owner.owner)
    )?;
    let reach: Vec<String> = [&owner.contact, &owner.slack]
        .into_iter()
        .flatten()
        .map(|r| escape(r))
        .collect();
    writeln!(
        out,
        "<p class=\"muted\">{}{} active flag{}</p>",
        if reach.is_empty() {
            String::new()
        } else {
            format!("{} · ", reach.join(" · "))
        },
        owner.active,
        if owner.active == 1 { "" } else { "s" }
    )?;
    if owner.remove.is_empty()
        && owner.ready_to_archive.is_empty()
        && owner.reviews.is_empty()
        && owner.expiring.is_empty()
    {
        return writeln!(
            out,
            "<p>Nothing to remove, review or extend.</p>\n</section>"
        );
    }
    if !owner.remove.is_empty() {
        writeln!(out, "<h4>To remove ({})</h4>", owner.remove.len())?;
        writeln!(
            out,
            "<table><thead><tr><th>Flag</th><th>Why</th><th>Keep</th><th>Readiness</th><th>Next step</th></tr></thead><tbody>"
        )?;
        for r in &owner.remove {
            writeln!(
                out,
                "<tr><td><code>{}</code></td><td><b>{}</b>: {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.flag),
                r.reason.name(),
                rich(&r.message),
                r.keep
                    .as_deref()
                    .map_or("—".to_string(), |k| format!("<code>{}</code>", escape(k))),
                badge(r.readiness),
                rich(&r.fix)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
        for r in owner.remove.iter().filter(|r| !r.references.is_empty()) {
            writeln!(
                out,
                "<details open><summary>Code that reads <code>{}</code> ({} use{})</summary><ul class=\"refs\">",
                escape(&r.flag),
                r.references.len(),
                if r.references.len() == 1 { "" } else { "s" }
            )?;
            for reference in &r.references {
                writeln!(
                    out,
                    "<li><code>{}:{}</code> <code>{}</code></li>",
                    escape(&reference.path),
                    reference.line,
                    escape(&reference.text)
                )?;
            }
            writeln!(out, "</ul></details>")?;
        }
    }
    if !owner.ready_to_archive.is_empty() {
        let keys: Vec<String> = owner
            .ready_to_archive
            .iter()
            .map(|r| format!("<code>{}</code>", escape(&r.flag)))
            .collect();
        writeln!(
            out,
            "<h4>Ready to archive ({})</h4>\n<p>{}: no code reads them. <code>flagctl archive --ready</code> archives every flag ready to archive in one commit.</p>",
            owner.ready_to_archive.len(),
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
    )?;
    writeln!(out, "</section>")
}

/// What `flagctl cleanup KEY` would change, flag by flag: the uses and a compact diff.
fn cleanup(out: &mut String, previews: &[CleanupPreview]) -> std::fmt::Result {
    if previews.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<h2 id=\"cleanup\">What <code>flagctl cleanup</code> would change</h2>\n<p class=\"muted\">Planned on the work tree, nothing written: <code>flagctl cleanup KEY</code> rewrites the uses and commits them, <code>--dry-run</code> prints the whole diff.</p>"
    )?;
    for preview in previews {
        writeln!(
            out,
            "<section class=\"cleanup\">\n<h3><code>{}</code></h3>",
            escape(&preview.flag)
        )?;
        if let Some(why) = &preview.refused {
            let (what, help) = why.split_once("\nhelp: ").unwrap_or((why, ""));
            writeln!(
                out,
                "<p>Owner: {} · cleanup cannot rewrite it: {}</p>",
                escape(&preview.owner),
                rich(&what.replace('\n', " "))
            )?;
            if !help.is_empty() {
                writeln!(out, "<p class=\"muted\">{}</p>", rich(help))?;
            }
            writeln!(out, "</section>")?;
            continue;
        }
        writeln!(
            out,
            "<p>Owner: {} · keeps <code>{}</code> (<code>{}</code>) · {} of {} use{} rewritten, {} skipped · {} file{}, +{} −{} lines</p>",
            escape(&preview.owner),
            escape(preview.variant.as_deref().unwrap_or("—")),
            escape(
                &preview
                    .value
                    .as_ref()
                    .map_or("—".to_string(), |v| v.to_string())
            ),
            preview.rewritten,
            preview.uses,
            if preview.uses == 1 { "" } else { "s" },
            preview.skipped,
            preview.files.len(),
            if preview.files.len() == 1 { "" } else { "s" },
            preview.lines_added,
            preview.lines_removed
        )?;
        if preview.changes.is_empty() {
            writeln!(
                out,
                "<p class=\"muted\">No SDK evaluation of it to rewrite: the code names it otherwise, see the references above.</p>\n</section>"
            )?;
            continue;
        }
        writeln!(
            out,
            "<table><thead><tr><th>Where</th><th>What cleanup does</th><th>Code</th></tr></thead><tbody>"
        )?;
        for change in &preview.changes {
            let what = match (change.outcome, &change.reason) {
                (Outcome::Rewritten, _) => "<span class=\"rewritten\">rewritten</span>".to_string(),
                (Outcome::Skipped, why) => format!(
                    "<span class=\"skipped\">skipped</span>{}",
                    why.as_deref()
                        .map_or(String::new(), |why| format!(": {}", escape(why)))
                ),
            };
            writeln!(
                out,
                "<tr><td><code>{}:{}</code></td><td>{what}</td><td><code>{}</code></td></tr>",
                escape(&change.path),
                change.line,
                escape(&change.text)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
        let diff = compact_diff(preview);
        if !diff.lines.is_empty() {
            writeln!(
                out,
                "<details><summary>Diff (+{} −{} lines)</summary>\n<pre class=\"diff\">",
                preview.lines_added, preview.lines_removed
            )?;
            for line in &diff.lines {
                let class = if line.starts_with("+++") || line.starts_with("---") {
                    "hunk"
                } else if line.starts_with('+') {
                    "add"
                } else if line.starts_with('-') {
                    "del"
                } else if line.starts_with("@@") {
                    "hunk"
                } else {
                    "ctx"
                };
                write!(out, "<span class=\"{class}\">{}</span>", escape(line))?;
            }
            writeln!(out, "</pre>")?;
            if diff.more > 0 {
                writeln!(
                    out,
                    "<p class=\"muted\">… {} more line{}: <code>flagctl cleanup {} --dry-run</code> prints them.</p>",
                    diff.more,
                    if diff.more == 1 { "" } else { "s" },
                    escape(&preview.flag)
                )?;
            }
            writeln!(out, "</details>")?;
        }
        writeln!(out, "</section>")?;
    }
    Ok(())
}

fn due_table(out: &mut String, title: &str, items: &[DueItem]) -> std::fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h4>{}</h4>", escape(title))?;
    writeln!(
        out,
        "<table><thead><tr><th>Flag</th><th>Due</th><th>What</th><th>Next step</th></tr></thead><tbody>"
    )?;
    for item in items {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{} {} ({})</td><td>{}</td><td>{}</td></tr>",
            escape(&item.flag),
            item.due_field,
            item.due,
            escape(&item.due_relative),
            rich(&item.message),
            rich(&item.fix)
        )?;
    }
    writeln!(out, "</tbody></table>")
}

fn readiness(out: &mut String, report: &CleanupReport) -> std::fmt::Result {
    writeln!(out, "<h2 id=\"readiness\">Removal readiness</h2>")?;
    if report.readiness.is_empty() {
        return writeln!(out, "<p class=\"muted\">No active flags.</p>");
    }
    writeln!(
        out,
        "<p class=\"muted\">✓ pass · ✗ fail · ? unknown — hover a mark for its reason, or open a flag below.</p>"
    )?;
    write!(
        out,
        "<table><thead><tr><th>Flag</th><th>Owner</th><th>Readiness</th>"
    )?;
    for name in CheckName::ALL {
        write!(out, "<th>{}</th>", name.name())?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    for flag in &report.readiness {
        write!(
            out,
            "<tr><td><code>{}</code><span class=\"desc\">{}</span></td><td>{}</td><td>{}</td>",
            escape(&flag.flag),
            escape(&flag.description),
            escape(&flag.owner),
            badge(Some(flag.readiness))
        )?;
        for name in CheckName::ALL {
            match flag.check(name) {
                Some(check) => {
                    let mark = match check.verdict {
                        Verdict::Pass => "✓",
                        Verdict::Fail => "✗",
                        Verdict::Unknown => "?",
                    };
                    write!(
                        out,
                        "<td class=\"v {}\" title=\"{}\">{mark}</td>",
                        check.verdict.name(),
                        escape(&check.reason)
                    )?;
                }
                None => write!(out, "<td></td>")?,
            }
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")?;
    writeln!(out, "<details><summary>Why, flag by flag</summary>")?;
    for flag in &report.readiness {
        writeln!(
            out,
            "<h4><code>{}</code> {}</h4><ul>",
            escape(&flag.flag),
            badge(Some(flag.readiness))
        )?;
        for check in &flag.checks {
            writeln!(
                out,
                "<li><b>{}</b> ({}): {}</li>",
                check.check.name(),
                check.verdict.name(),
                rich(&check.reason)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</details>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_names_show_as_code_and_stay_escaped() {
        assert_eq!(
            super::rich("winner `<b>` wins; `x"),
            "winner <code>&lt;b&gt;</code> wins; <code>x</code>"
        );
    }

    #[test]
    fn everything_from_the_repository_is_text() {
        assert_eq!(
            super::escape("<script>alert('x')</script> & \"q\"\u{1b}[2J"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\\u{1b}[2J"
        );
    }
}
