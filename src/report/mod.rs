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
