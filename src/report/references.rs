//! `refs`: the code references of every flag, one renderer per format.

use std::io::Write;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use crate::output::Envelope;
use crate::refs::{FlagRefs, Reference, Scan, Skipped, UnknownRef};

/// What `refs --format json` prints (in the envelope).
#[derive(Serialize, JsonSchema)]
pub struct RefsJson<'a> {
    /// Every flag, live and archived, in key order.
    pub flags: &'a [FlagRefs],
    /// SDK calls (and `[refs]` pattern matches) whose key is no flag.
    pub unknown: &'a [UnknownRef],
    /// Files read, and of those, read with a parser.
    pub files: usize,
    pub parsed: usize,
    /// Files left out, and why.
    pub skipped: &'a [Skipped],
}

pub fn json(out: &mut dyn Write, scan: &Scan, as_of: NaiveDate) -> std::io::Result<()> {
    let body = RefsJson {
        flags: &scan.flags,
        unknown: &scan.unknown,
        files: scan.files,
        parsed: scan.parsed,
        skipped: &scan.skipped,
    };
    crate::output::write_json(&mut *out, &Envelope::new(as_of, &body))?;
    writeln!(out)
}

/// One line per reference under its flag, the flags without a use after them, then the
/// unknown keys.
pub fn human(out: &mut dyn Write, scan: &Scan) -> std::io::Result<()> {
    let mut unused = Vec::new();
    for flag in &scan.flags {
        if flag.references.is_empty() {
            if !flag.archived {
                unused.push(flag.flag.as_str());
            }
            continue;
        }
        let uses = flag.uses().count();
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
                unknown.key,
                line(&unknown.reference)
            )?;
        }
    }
    if !unused.is_empty() {
        writeln!(out, "live flags no code reads: {}", unused.join(", "))?;
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
        reference.path, reference.line, reference.column, reference.text
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
            writeln!(
                out,
                "::notice file={},line={},col={},title={}::{}",
                property(&format!("{base}{}", reference.path)),
                reference.line,
                reference.column,
                property(&format!("flag {}", flag.flag)),
                data(&describe(&flag.flag, flag.archived, reference))
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
    format!("`{}` is no flag{near}", unknown.key)
}

/// SARIF 2.1.0: a `flag-reference` note per use, an `unknown-flag-referenced` warning
/// per unknown key.
pub fn sarif(
    out: &mut dyn Write,
    scan: &Scan,
    base: &str,
    as_of: NaiveDate,
) -> std::io::Result<()> {
    let location = |reference: &Reference| {
        json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": super::sarif::uri(&format!("{base}{}", reference.path)), "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": reference.line, "startColumn": reference.column },
            }
        }])
    };
    let mut results = Vec::new();
    for flag in &scan.flags {
        for reference in flag.uses() {
            results.push(json!({
                "ruleId": "flag-reference",
                "ruleIndex": 0,
                "level": "note",
                "message": { "text": describe(&flag.flag, flag.archived, reference) },
                "locations": location(reference),
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
            "locations": location(&unknown.reference),
        }));
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "flagctl",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/flagctl/flagctl",
                "rules": [
                    { "id": "flag-reference", "shortDescription": { "text": "Code that reads a flag." } },
                    { "id": "unknown-flag-referenced", "shortDescription": { "text": crate::rules::RuleId::UnknownFlagReferenced.summary() } },
                ],
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The flag repository root" } } },
            "results": results,
            "properties": { "as_of": as_of.to_string() },
        }],
    });
    crate::output::write_json(&mut *out, &log)?;
    writeln!(out)
}
