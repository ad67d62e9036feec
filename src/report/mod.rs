//! Renderers of findings: one finding model, one renderer per format. They write to any
//! `io::Write`; the binary decides where.

pub mod cleanup;
mod github;
mod human;
mod json;
mod junit;
pub mod references;
mod sarif;

pub use github::render as github;
pub use human::{
    problems as human_problems, render as human, statistics as human_statistics,
    summary as human_summary,
};
pub use json::{FindingsJson, render as json};
pub use junit::render as junit;
pub use sarif::render as sarif;

use chrono::NaiveDate;

use crate::checks::{Finding, RuleId, Summary};
use crate::model::SourceFile;
use crate::output::Failure;
use crate::repo::FlagFile;

/// Findings with the files they were found in.
pub struct Report<'a> {
    pub as_of: NaiveDate,
    /// Every flag file checked.
    pub files: &'a [FlagFile],
    /// `flagctl.toml`, when findings point into it (`invalid-config`), or the flagd file
    /// that `validate --flagd` checks.
    pub config: Option<&'a SourceFile>,
    /// The source files code findings point into (`audit --refs`), when readable.
    pub code: &'a [SourceFile],
    pub findings: &'a [Finding],
    /// Notes for the reader (such as checks that were skipped or what `--base` left
    /// out), rendered in each format's place for them.
    pub notes: &'a [String],
    /// Why the command could not check anything (exit code 2), for the formats that
    /// report it in their own document (sarif, github, junit).
    pub failure: Option<&'a Failure>,
    /// Where the flag repository sits in the git work tree (`platform/`, or empty): CI
    /// systems resolve the paths of `github`, `sarif` and `junit` against the checkout's
    /// root, so those formats put it in front of each path.
    pub base: String,
}

impl Report<'_> {
    /// A finding's path as the CI system resolves it: from the git work tree's root.
    pub fn ci_path(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Report<'_> {
    pub fn summary(&self) -> Summary {
        Summary::of(self.findings)
    }

    /// Whether flagctl could check the repository at all: not with an invalid
    /// `flagctl.toml`.
    pub fn completed(&self) -> bool {
        self.failure.is_none()
            && !self
                .findings
                .iter()
                .any(|finding| finding.rule == RuleId::InvalidConfig)
    }

    /// Every file findings can point into: the flag files, `flagctl.toml`, then code.
    pub fn sources(&self) -> impl Iterator<Item = &SourceFile> {
        self.files
            .iter()
            .map(|file| &file.source)
            .chain(self.config)
            .chain(self.code)
    }
}

/// A message with its help on the next line, as a plain-text format shows it.
fn with_help(message: &str, help: Option<&str>) -> String {
    match help {
        Some(help) => format!("{message}\nhelp: {help}"),
        None => message.to_owned(),
    }
}

/// Text from outside flagctl (file content, hook output) made safe to print: control
/// characters other than newline and tab are shown escaped, never sent to the terminal.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\n' && c != '\t' && crate::output::is_hidden(c) {
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
