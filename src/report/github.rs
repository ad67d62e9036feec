//! `--format github`: GitHub Actions workflow commands, one annotation per finding.

use std::io::Write;

use super::{Report, with_help};
use crate::checks::Severity;

/// Escapes the message of a workflow command.
pub(super) fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
pub(super) fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(out: &mut dyn Write, report: &Report) -> std::io::Result<()> {
    for finding in report.findings {
        let level = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = with_help(&finding.message, finding.help.as_deref());
        writeln!(
            out,
            "::{level} file={},line={},col={},title={}::{}",
            property(&report.ci_path(&finding.path)),
            finding.line,
            finding.column,
            property(finding.rule.name()),
            data(&message)
        )?;
    }
    for note in report.notes {
        writeln!(out, "::notice title=flagctl::{}", data(note))?;
    }
    if let Some(failure) = report.failure {
        let message = with_help(&failure.message, failure.help.as_deref());
        writeln!(out, "::error title=flagctl::{}", data(&message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_github_expects() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
