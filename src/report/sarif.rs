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
            let mut text = finding.message.clone();
            if let Some(help) = &finding.help {
                text.push_str(&format!(" (help: {help})"));
            }
            json!({
                "ruleId": finding.rule.name(),
                "ruleIndex": RuleId::ALL.iter().position(|r| *r == finding.rule),
                "level": level(finding.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": finding.path, "uriBaseId": "%SRCROOT%" },
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
            "results": results,
            "properties": { "as_of": report.as_of.to_string() },
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
