//! `--format json`: one object with the findings and their summary.

use std::io::Write;

use serde_json::json;

use super::Report;

pub fn render(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let value = json!({
        "schema": 1,
        "as_of": report.as_of.to_string(),
        "flags": report.files.len(),
        "findings": report.findings,
        "summary": report.summary(),
    });
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}
