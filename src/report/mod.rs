//! Renderers of findings: one finding model, one renderer per format. They write to any
//! `io::Write`; the binary decides where.

mod human;
mod json;

pub use human::{problems as human_problems, render as human};
pub use json::render as json;

use chrono::NaiveDate;

use crate::checks::{Finding, Summary};
use crate::model::SourceFile;

/// Findings with what they were found in.
pub struct Report<'a> {
    pub as_of: NaiveDate,
    /// How many flag files were checked.
    pub flags: usize,
    pub findings: &'a [Finding],
    /// The files findings point into, for rendering their lines.
    pub sources: Vec<&'a SourceFile>,
}

impl Report<'_> {
    pub fn summary(&self) -> Summary {
        Summary::of(self.findings)
    }
}
