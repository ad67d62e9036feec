//! Renderers of findings: one finding model, one renderer per format. They write to any
//! `io::Write`; the binary decides where.

mod github;
mod human;
mod json;
mod junit;
mod sarif;

pub use github::render as github;
pub use human::{problems as human_problems, render as human};
pub use json::render as json;
pub use junit::render as junit;
pub use sarif::render as sarif;

use chrono::NaiveDate;

use crate::checks::{Finding, Summary};
use crate::repo::FlagFile;

/// Findings with the files they were found in.
pub struct Report<'a> {
    pub as_of: NaiveDate,
    /// Every flag file checked.
    pub files: &'a [FlagFile],
    pub findings: &'a [Finding],
    /// Notes for the reader (such as checks that were skipped), rendered where a format allows.
    pub notes: &'a [String],
}

impl Report<'_> {
    pub fn summary(&self) -> Summary {
        Summary::of(self.findings)
    }
}

/// Text from outside flagctl (file content, hook output) made safe to print: control
/// characters other than newline and tab are shown escaped, never sent to the terminal.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitize_escapes_control_characters() {
        assert_eq!(
            super::sanitize("a\u{1b}[31mb\r\n\tc"),
            "a\\u{1b}[31mb\\r\n\tc"
        );
    }
}
