//! `--format json`: one object with the findings, their summary and the notes.

use std::io::Write;

use schemars::JsonSchema;
use serde::Serialize;

use super::Report;
use crate::checks::{Finding, Summary};
use crate::output::Envelope;

/// What `audit --format json` and `validate --format json` print (in the envelope).
#[derive(Serialize, JsonSchema)]
pub struct FindingsJson<'a> {
    /// Flag files checked (0 when `flagctl.toml` is invalid: nothing was checked).
    pub flags: usize,
    /// Sorted by path, line, rule.
    pub findings: &'a [Finding],
    pub summary: Summary,
    /// Notes for the reader: checks that were skipped, what `--base` left out.
    pub notes: &'a [String],
}

pub fn render(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    let body = FindingsJson {
        flags: report.files.len(),
        findings: report.findings,
        summary: report.summary(),
        notes: report.notes,
    };
    crate::output::write_json(&mut *out, &Envelope::new(report.as_of, &body))?;
    writeln!(out)
}
