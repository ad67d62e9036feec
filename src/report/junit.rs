//! `--format junit`: one test case per flag file (and one for `flagctl.toml` when it is
//! invalid); each error is a failure; notes are suite properties and its system-out.

use std::collections::BTreeMap;
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{Report, with_help};
use crate::checks::{Finding, Severity};

pub fn render(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let mut by_path: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in report.findings {
        by_path.entry(&finding.path).or_default().push(finding);
    }
    // One case per flag file, then one per other file findings point into
    // (`flagctl.toml`).
    let mut cases: Vec<Case> = report
        .files
        .iter()
        .map(|file| Case {
            name: if file.key.is_empty() {
                file.source.path.as_str()
            } else {
                file.key.as_str()
            },
            classname: if file.service.is_empty() {
                "flags".to_string()
            } else {
                format!("flags.{}", file.service)
            },
            path: file.source.path.as_str(),
        })
        .collect();
    for path in by_path.keys() {
        if !cases.iter().any(|case| case.path == *path) {
            cases.push(Case {
                name: path,
                classname: "flagctl".to_string(),
                path,
            });
        }
    }
    let failures = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let tests = (cases.len() + usize::from(report.failure.is_some())).to_string();
    let failures = failures.to_string();
    let errors = usize::from(report.failure.is_some()).to_string();

    let mut xml = Writer::new_with_indent(Vec::new(), b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let suite_attrs = [
        ("name", "flagctl audit"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
    ];
    xml.write_event(Event::Start(
        BytesStart::new("testsuites").with_attributes(suite_attrs),
    ))?;
    let timestamp = format!("{}T00:00:00", report.as_of);
    let mut suite = BytesStart::new("testsuite").with_attributes(suite_attrs);
    suite.push_attribute(("timestamp", timestamp.as_str()));
    xml.write_event(Event::Start(suite))?;
    if !report.notes.is_empty() {
        xml.write_event(Event::Start(BytesStart::new("properties")))?;
        for note in report.notes {
            xml.write_event(Event::Empty(
                BytesStart::new("property").with_attributes([("name", "note"), ("value", note)]),
            ))?;
        }
        xml.write_event(Event::End(BytesEnd::new("properties")))?;
    }
    for case in &cases {
        let file = report.ci_path(case.path);
        let start = BytesStart::new("testcase").with_attributes([
            ("name", case.name),
            ("classname", case.classname.as_str()),
            ("file", file.as_str()),
        ]);
        let findings = by_path
            .get(case.path)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if findings.is_empty() {
            xml.write_event(Event::Empty(start))?;
            continue;
        }
        xml.write_event(Event::Start(start))?;
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
            system_out(&mut xml, &warnings)?;
        }
        xml.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    if let Some(failure) = report.failure {
        // The run itself failed: one case that errored, as test runners report a crash.
        let start = BytesStart::new("testcase")
            .with_attributes([("name", "flagctl"), ("classname", "flagctl")]);
        xml.write_event(Event::Start(start))?;
        let error = BytesStart::new("error")
            .with_attributes([("message", failure.message.as_str()), ("type", "error")]);
        xml.write_event(Event::Start(error))?;
        let text = with_help(&failure.message, failure.help.as_deref());
        xml.write_event(Event::Text(BytesText::new(&text)))?;
        xml.write_event(Event::End(BytesEnd::new("error")))?;
        xml.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    if !report.notes.is_empty() {
        let notes: String = report
            .notes
            .iter()
            .map(|note| format!("note: {note}\n"))
            .collect();
        system_out(&mut xml, &notes)?;
    }
    xml.write_event(Event::End(BytesEnd::new("testsuite")))?;
    xml.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let document = String::from_utf8_lossy(&xml.into_inner()).into_owned();
    out.write_all(xml_safe(&document).as_bytes())?;
    writeln!(out)
}

/// The document with every character XML 1.0 forbids (NUL, ESC and the other C0
/// controls but tab and line breaks, lone surrogates' replacements, U+FFFE/U+FFFF) shown
/// as a visible escape: such characters can only come from the repository's text, inside
/// a value, and a JUnit reader rejects the whole file for one of them.
fn xml_safe(document: &str) -> String {
    let mut out = String::with_capacity(document.len());
    for c in document.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
            || c >= '\u{10000}';
        if allowed {
            out.push(c);
        } else {
            out.extend(c.escape_unicode());
        }
    }
    out
}

/// A test case: a file findings can point into.
struct Case<'a> {
    name: &'a str,
    classname: String,
    path: &'a str,
}

fn system_out(xml: &mut Writer<Vec<u8>>, text: &str) -> std::io::Result<()> {
    xml.write_event(Event::Start(BytesStart::new("system-out")))?;
    xml.write_event(Event::Text(BytesText::new(text)))?;
    xml.write_event(Event::End(BytesEnd::new("system-out")))?;
    Ok(())
}
