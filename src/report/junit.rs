//! `--format junit`: one test case per flag file; each error is a failure.

use std::collections::BTreeMap;
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::Report;
use crate::checks::{Finding, Severity};

pub fn render(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let mut by_path: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in report.findings {
        by_path.entry(&finding.path).or_default().push(finding);
    }
    let failures = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let tests = report.files.len().to_string();
    let failures = failures.to_string();

    let mut xml = Writer::new_with_indent(Vec::new(), b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let suite_attrs = [
        ("name", "flagctl audit"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
    ];
    xml.write_event(Event::Start(
        BytesStart::new("testsuites").with_attributes(suite_attrs),
    ))?;
    let timestamp = format!("{}T00:00:00", report.as_of);
    let mut suite = BytesStart::new("testsuite").with_attributes(suite_attrs);
    suite.push_attribute(("timestamp", timestamp.as_str()));
    xml.write_event(Event::Start(suite))?;
    for file in report.files {
        let name = if file.key.is_empty() {
            file.source.path.as_str()
        } else {
            file.key.as_str()
        };
        let classname = if file.service.is_empty() {
            "flags".to_string()
        } else {
            format!("flags.{}", file.service)
        };
        let case = BytesStart::new("testcase").with_attributes([
            ("name", name),
            ("classname", classname.as_str()),
            ("file", file.source.path.as_str()),
        ]);
        let findings = by_path
            .get(file.source.path.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if findings.is_empty() {
            xml.write_event(Event::Empty(case))?;
            continue;
        }
        xml.write_event(Event::Start(case))?;
        let mut warnings = String::new();
        for finding in findings {
            let line = format!(
                "{}:{}:{}: {}",
                finding.path, finding.line, finding.column, finding.message
            );
            if finding.severity == Severity::Error {
                let failure = BytesStart::new("failure").with_attributes([
                    ("message", finding.message.as_str()),
                    ("type", finding.rule.name()),
                ]);
                xml.write_event(Event::Start(failure))?;
                xml.write_event(Event::Text(BytesText::new(&line)))?;
                xml.write_event(Event::End(BytesEnd::new("failure")))?;
            } else {
                warnings.push_str(&format!("warning[{}] {line}\n", finding.rule.name()));
            }
        }
        if !warnings.is_empty() {
            xml.write_event(Event::Start(BytesStart::new("system-out")))?;
            xml.write_event(Event::Text(BytesText::new(&warnings)))?;
            xml.write_event(Event::End(BytesEnd::new("system-out")))?;
        }
        xml.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    xml.write_event(Event::End(BytesEnd::new("testsuite")))?;
    xml.write_event(Event::End(BytesEnd::new("testsuites")))?;
    out.write_all(&xml.into_inner())?;
    writeln!(out)
}
