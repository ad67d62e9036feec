//! `refs`: the code references of every flag, one renderer per format; and `refs --base
//! REV`: the references a change adds and removes.

use std::io::Write;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use crate::output::Envelope;
use crate::refs::diff::{RefChange, RefsDiff};
use crate::refs::history::{LastUses, Removal};
use crate::refs::{FlagRefs, Reference, Scan, Skipped, UnknownRef};
use crate::repo::short_id;

/// What `refs --format json` prints (in the envelope).
#[derive(Serialize, JsonSchema)]
pub struct RefsJson<'a> {
    /// Every flag, live and archived, in key order.
    pub flags: Vec<FlagJson<'a>>,
    /// SDK calls (and `[refs]` pattern matches) whose key is no flag.
    pub unknown: &'a [UnknownRef],
    /// Files read, and of those, read with a parser.
    pub files: usize,
    pub parsed: usize,
    /// Files left out, and why.
    pub skipped: &'a [Skipped],
    /// What the reader should know about the history of references: uses removed by
    /// changes not committed yet, and why the history was not read, or not to its start.
    pub notes: &'a [String],
}

/// One flag of `refs --format json`: its references, and when the last use went.
#[derive(Serialize, JsonSchema)]
pub struct FlagJson<'a> {
    #[serde(flatten)]
    pub refs: &'a FlagRefs,
    /// For a flag without a use (comments are no uses): the newest commit of HEAD's
    /// first-parent history that removed one, which was its last. `null` when the flag
    /// has a use, when no commit removed one (it never had a use in the scanned paths),
    /// or when the history was not read (`--no-history`, or a note says why).
    pub last_use_removed: Option<&'a Removal>,
}

pub fn json(
    out: &mut dyn Write,
    scan: &Scan,
    last_uses: &LastUses,
    as_of: NaiveDate,
) -> std::io::Result<()> {
    let body = RefsJson {
        flags: scan
            .flags
            .iter()
            .map(|refs| FlagJson {
                refs,
                last_use_removed: last_uses.removals.get(&refs.flag),
            })
            .collect(),
        unknown: &scan.unknown,
        files: scan.files,
        parsed: scan.parsed,
        skipped: &scan.skipped,
        notes: &last_uses.notes,
    };
    crate::output::write_json(&mut *out, &Envelope::new(as_of, &body))?;
    writeln!(out)
}

/// One line per reference under its flag, the flags without a use after them with when
/// their last use was removed, then the unknown keys.
pub fn human(out: &mut dyn Write, scan: &Scan, last_uses: &LastUses) -> std::io::Result<()> {
    let mut unused = Vec::new();
    for flag in &scan.flags {
        let uses = flag.uses().count();
        // A mention in a comment is no use: such a flag is listed with its comments, and
        // among those no code reads.
        if uses == 0 && !flag.archived {
            unused.push(flag.flag.as_str());
        }
        if flag.references.is_empty() {
            continue;
        }
        let comments = flag.references.len() - uses;
        let mut counts = vec![plural(uses, "use")];
        if comments > 0 {
            counts.push(plural(comments, "comment"));
        }
        let archived = if flag.archived { " (archived)" } else { "" };
        writeln!(out, "{}{archived}: {}", flag.flag, counts.join(", "))?;
        for reference in &flag.references {
            writeln!(out, "  {}", line(reference))?;
        }
    }
    if !scan.unknown.is_empty() {
        writeln!(out, "keys that are no flag:")?;
        for unknown in &scan.unknown {
            let near = unknown
                .did_you_mean
                .as_deref()
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            writeln!(
                out,
                "  `{}`{near}  {}",
                crate::model::source::shown(&unknown.key),
                line(&unknown.reference)
            )?;
        }
    }
    if !unused.is_empty() {
        writeln!(out, "active flags no code reads: {}", unused.join(", "))?;
    }
    if !last_uses.removals.is_empty() {
        writeln!(out, "last uses removed:")?;
        for (key, removal) in &last_uses.removals {
            let archived = match scan.of(key) {
                Some(flag) if flag.archived => " (archived)",
                _ => "",
            };
            writeln!(out, "  {key}{archived}: {}", removed_since(removal))?;
        }
    }
    let referenced = scan
        .flags
        .iter()
        .filter(|f| f.uses().next().is_some())
        .count();
    writeln!(
        out,
        "{} of {} read in {} ({} parsed){}",
        plural(referenced, "flag"),
        scan.flags.len(),
        plural(scan.files, "file"),
        scan.parsed,
        if scan.skipped.is_empty() {
            String::new()
        } else {
            format!("; {} left out", plural(scan.skipped.len(), "file"))
        }
    )
}

/// "no use since abc1234 (Ada Lovelace, 2026-10-02): remove ranker call (src/rank.py)"
fn removed_since(removal: &Removal) -> String {
    let date = removal
        .date
        .map(|date| format!(", {}", date.date_naive()))
        .unwrap_or_default();
    format!(
        "no use since {} ({}{date}): {} ({})",
        short_id(&removal.commit),
        crate::output::shown(&removal.author),
        crate::output::shown(&removal.summary),
        crate::output::shown(&removal.path)
    )
}

/// `path:line:col  kind method  │ text`
fn line(reference: &Reference) -> String {
    let mut what = reference.kind.name().to_string();
    if let Some(method) = &reference.method {
        what = format!("{what} {method}");
    }
    if let Some(default) = &reference.default_text {
        what = format!("{what} (default {default})");
    }
    format!(
        "{}:{}:{}  {what}  | {}",
        crate::output::shown(&reference.path),
        reference.line,
        reference.column,
        reference.text
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// GitHub Actions notices, one per use; unknown keys as warnings.
pub fn github(out: &mut dyn Write, scan: &Scan, base: &str) -> std::io::Result<()> {
    use super::github::{data, property};
    for flag in &scan.flags {
        for reference in flag.uses() {
            notice_at(
                out,
                base,
                reference,
                &format!("flag {}", flag.flag),
                &describe(&flag.flag, flag.archived, reference),
            )?;
        }
    }
    for unknown in &scan.unknown {
        let reference = &unknown.reference;
        writeln!(
            out,
            "::warning file={},line={},col={},title=unknown flag::{}",
            property(&format!("{base}{}", reference.path)),
            reference.line,
            reference.column,
            data(&unknown_message(unknown))
        )?;
    }
    Ok(())
}

/// A GitHub Actions notice at a reference (its path from the checkout's root, `base`).
fn notice_at(
    out: &mut dyn Write,
    base: &str,
    reference: &Reference,
    title: &str,
    message: &str,
) -> std::io::Result<()> {
    use super::github::{data, property};
    writeln!(
        out,
        "::notice file={},line={},col={},title={}::{}",
        property(&format!("{base}{}", reference.path)),
        reference.line,
        reference.column,
        property(title),
        data(message)
    )
}

fn describe(key: &str, archived: bool, reference: &Reference) -> String {
    let archived = if archived { "archived " } else { "" };
    match &reference.method {
        Some(method) => format!("reads {archived}flag `{key}` ({method})"),
        None => format!(
            "references {archived}flag `{key}` ({})",
            reference.kind.name()
        ),
    }
}

fn unknown_message(unknown: &UnknownRef) -> String {
    let near = unknown
        .did_you_mean
        .as_deref()
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    format!(
        "`{}` is no flag{near}",
        crate::model::source::shown(&unknown.key)
    )
}

/// A SARIF location at a reference.
fn sarif_location(reference: &Reference, base: &str) -> Value {
    json!([{
        "physicalLocation": {
            "artifactLocation": { "uri": super::sarif::uri(&format!("{base}{}", reference.path)), "uriBaseId": "%SRCROOT%" },
            "region": { "startLine": reference.line, "startColumn": reference.column },
        }
    }])
}

/// SARIF 2.1.0: a `flag-reference` note per use, an `unknown-flag-referenced` warning
/// per unknown key.
pub fn sarif(
    out: &mut dyn Write,
    scan: &Scan,
    base: &str,
    as_of: NaiveDate,
) -> std::io::Result<()> {
    let mut results = Vec::new();
    for flag in &scan.flags {
        for reference in flag.uses() {
            results.push(json!({
                "ruleId": "flag-reference",
                "ruleIndex": 0,
                "level": "note",
                "message": { "text": describe(&flag.flag, flag.archived, reference) },
                "locations": sarif_location(reference, base),
                "properties": { "flag": flag.flag, "kind": reference.kind, "method": reference.method },
            }));
        }
    }
    for unknown in &scan.unknown {
        results.push(json!({
            "ruleId": "unknown-flag-referenced",
            "ruleIndex": 1,
            "level": "warning",
            "message": { "text": unknown_message(unknown) },
            "locations": sarif_location(&unknown.reference, base),
        }));
    }
    let rules = json!([
        { "id": "flag-reference", "shortDescription": { "text": "Code that reads a flag." } },
        { "id": "unknown-flag-referenced", "shortDescription": { "text": crate::rules::RuleId::UnknownFlagReferenced.summary() } },
    ]);
    sarif_log(out, rules, results, json!({ "as_of": as_of.to_string() }))
}

/// A SARIF 2.1.0 log of one run of flagctl.
fn sarif_log(
    out: &mut dyn Write,
    rules: Value,
    results: Vec<Value>,
    properties: Value,
) -> std::io::Result<()> {
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "flagctl",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/flagctl/flagctl",
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The flag repository root" } } },
            // Columns count characters, as every other format of flagctl counts them.
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": properties,
        }],
    });
    crate::output::write_json(&mut *out, &log)?;
    writeln!(out)
}

/// What `refs --base REV --format json` prints (in the envelope).
#[derive(Serialize, JsonSchema)]
pub struct RefsDiffJson<'a> {
    /// The base, as given (`--base REV`).
    pub base: &'a str,
    /// The base commit's full id.
    pub base_commit: &'a str,
    /// References in the work tree that the base does not hold: flag, whether it is
    /// archived, then the reference (line and column in the work tree's file).
    pub added: &'a [RefChange],
    /// References of the base that the work tree no longer holds (line and column in
    /// the base's file).
    pub removed: &'a [RefChange],
    /// What the reader should know about the scan of the base.
    pub notes: &'a [String],
}

/// A comparison of the references at a base commit with the work tree's.
pub struct Compared<'a> {
    /// As given: `--base REV`.
    pub rev: &'a str,
    pub commit: &'a str,
    pub diff: &'a RefsDiff,
    pub notes: &'a [String],
}

pub fn diff_json(
    out: &mut dyn Write,
    compared: &Compared,
    as_of: NaiveDate,
) -> std::io::Result<()> {
    let body = RefsDiffJson {
        base: compared.rev,
        base_commit: compared.commit,
        added: &compared.diff.added,
        removed: &compared.diff.removed,
        notes: compared.notes,
    };
    crate::output::write_json(&mut *out, &Envelope::new(as_of, &body))?;
    writeln!(out)
}

/// `+` and `-` lines, added first, then a count.
pub fn diff_human(out: &mut dyn Write, compared: &Compared) -> std::io::Result<()> {
    let diff = compared.diff;
    for (sign, changes) in [('+', &diff.added), ('-', &diff.removed)] {
        for change in changes {
            let archived = if change.archived { " (archived)" } else { "" };
            writeln!(
                out,
                "{sign} {}{archived}  {}",
                change.flag,
                line(&change.reference)
            )?;
        }
    }
    writeln!(
        out,
        "{} added, {} removed since {} ({})",
        plural(diff.added.len(), "reference"),
        diff.removed.len(),
        compared.rev,
        short_id(compared.commit)
    )
}

/// GitHub Actions notices: one at each added reference; one per removed reference,
/// naming where it was at the base (no line of today's file holds it).
pub fn diff_github(out: &mut dyn Write, compared: &Compared, base: &str) -> std::io::Result<()> {
    use super::github::{data, property};
    for change in &compared.diff.added {
        let reference = &change.reference;
        let title = format!("flag {} added", change.flag);
        notice_at(
            out,
            base,
            reference,
            &title,
            &describe(&change.flag, change.archived, reference),
        )?;
    }
    for change in &compared.diff.removed {
        writeln!(
            out,
            "::notice title={}::{}",
            property(&format!("flag {} removed", change.flag)),
            data(&removed_message(compared.rev, change, base))
        )?;
    }
    Ok(())
}

/// "src/a.py:3 at main: references flag `k` (text)"
fn removed_message(rev: &str, change: &RefChange, base: &str) -> String {
    let reference = &change.reference;
    format!(
        "{base}{}:{} at {rev}: {}",
        reference.path,
        reference.line,
        describe(&change.flag, change.archived, reference)
    )
}

/// SARIF 2.1.0: a `flag-reference-added` note at each added reference, a
/// `flag-reference-removed` note (without a location in today's files) per removed one.
pub fn diff_sarif(
    out: &mut dyn Write,
    compared: &Compared,
    base: &str,
    as_of: NaiveDate,
) -> std::io::Result<()> {
    let properties = |change: &RefChange| json!({ "flag": change.flag, "archived": change.archived, "kind": change.reference.kind, "method": change.reference.method });
    let mut results = Vec::new();
    for change in &compared.diff.added {
        results.push(json!({
            "ruleId": "flag-reference-added",
            "ruleIndex": 0,
            "level": "note",
            "message": { "text": describe(&change.flag, change.archived, &change.reference) },
            "locations": sarif_location(&change.reference, base),
            "properties": properties(change),
        }));
    }
    for change in &compared.diff.removed {
        results.push(json!({
            "ruleId": "flag-reference-removed",
            "ruleIndex": 1,
            "level": "note",
            "message": { "text": removed_message(compared.rev, change, base) },
            "properties": properties(change),
        }));
    }
    let rules = json!([
        { "id": "flag-reference-added", "shortDescription": { "text": "Code the change adds that references a flag." } },
        { "id": "flag-reference-removed", "shortDescription": { "text": "Code the change removes that referenced a flag." } },
    ]);
    sarif_log(
        out,
        rules,
        results,
        json!({ "as_of": as_of.to_string(), "base": compared.rev, "base_commit": compared.commit }),
    )
}
