//! `--format sarif`: SARIF 2.1.0, with the rule catalogue as tool metadata.

use std::io::Write;

use serde_json::{Value, json};

use super::Report;
use crate::checks::{RuleId, Severity};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A message with its help in parentheses.
fn with_help(message: &str, help: Option<&str>) -> String {
    match help {
        Some(help) => format!("{message} (help: {help})"),
        None => message.to_owned(),
    }
}

/// The notes, then why the run failed (if it did).
fn notifications(report: &Report) -> Vec<Value> {
    let notes = report.notes.iter().map(|note| ("note", note.clone()));
    let failure = report.failure.map(|failure| {
        (
            "error",
            with_help(&failure.message, failure.help.as_deref()),
        )
    });
    notes
        .chain(failure)
        .map(|(level, text)| json!({ "level": level, "message": { "text": text } }))
        .collect()
}

pub fn render(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let rules: Vec<Value> = RuleId::ALL
        .iter()
        .map(|rule| {
            json!({
                "id": rule.name(),
                "shortDescription": { "text": rule.summary() },
                "fullDescription": { "text": rule.summary() },
                "help": { "text": rule.help(), "markdown": rule.help() },
                "defaultConfiguration": { "level": level(rule.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            let text = with_help(&finding.message, finding.help.as_deref());
            json!({
                "ruleId": finding.rule.name(),
                "ruleIndex": RuleId::ALL.iter().position(|r| *r == finding.rule),
                "level": level(finding.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&report.ci_path(&finding.path)), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": finding.line, "startColumn": finding.column },
                    }
                }],
                "partialFingerprints": {
                    "flagctl/v1": format!("{}:{}", finding.rule.name(), finding.flag.as_deref().unwrap_or(&finding.path)),
                },
                "properties": { "flag": finding.flag, "service": finding.service, "owner": finding.owner },
            })
        })
        .collect();
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
            "invocations": [{
                "executionSuccessful": report.completed(),
                "toolExecutionNotifications": notifications(report),
            }],
            "properties": { "as_of": report.as_of.to_string() },
        }],
    });
    crate::output::write_json(&mut *out, &log)?;
    writeln!(out)
}

/// A relative path as a URI reference: every byte but the unreserved characters and `/`
/// percent-encoded, so that spaces, `#`, `%` and `?` in file names stay part of the path.
pub(super) fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod uri_tests {
    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(
            super::uri("flags/a b/x#1%?.toml"),
            "flags/a%20b/x%231%25%3F.toml"
        );
        assert_eq!(super::uri("flags/s/k.toml"), "flags/s/k.toml");
        assert_eq!(super::uri("flags/é.toml"), "flags/%C3%A9.toml");
    }
}
