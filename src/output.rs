//! The frame of every JSON document flagctl prints: `{"schema": 1, "as_of": DATE, ...}`.
//! The command's result is flattened into it, so a reader checks the version first.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;

/// The version of every JSON document flagctl prints; it changes only when a field
/// changes meaning or goes away (new fields may appear within a version).
pub const SCHEMA: u32 = 1;

/// A command's JSON result with the schema version and the day it was computed for.
#[derive(Serialize, JsonSchema)]
pub struct Envelope<'a, T: Serialize + JsonSchema> {
    /// The version of the document's shape: 1.
    #[schemars(extend("const" = 1))]
    pub schema: u32,
    /// Today, as the command took it (`--as-of`, else the UTC date).
    pub as_of: NaiveDate,
    #[serde(flatten)]
    pub value: &'a T,
}

impl<'a, T: Serialize + JsonSchema> Envelope<'a, T> {
    pub fn new(as_of: NaiveDate, value: &'a T) -> Self {
        Envelope {
            schema: SCHEMA,
            as_of,
            value,
        }
    }
}

/// Why a command could not do its job (exit code 2), as JSON reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Failure {
    pub message: String,
    /// What to do about it, when flagctl knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Failure {
    /// An error's text, its `\nhelp: …` tail (if any) taken apart as the help.
    pub fn from_text(text: &str) -> Failure {
        match text.split_once("\nhelp: ") {
            Some((message, help)) => Failure {
                message: message.to_owned(),
                help: Some(help.to_owned()),
            },
            None => Failure {
                message: text.to_owned(),
                help: None,
            },
        }
    }
}

/// What `--format json` prints when a command fails: `{"error": {...}}` in the envelope.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FailureJson {
    pub error: Failure,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_help_tail_becomes_the_help() {
        assert_eq!(
            Failure::from_text("no flag `x`\nhelp: run `flagctl list`"),
            Failure {
                message: "no flag `x`".into(),
                help: Some("run `flagctl list`".into())
            }
        );
        assert_eq!(Failure::from_text("broken").help, None);
    }

    #[test]
    fn the_envelope_comes_first() {
        let failure = FailureJson {
            error: Failure::from_text("broken"),
        };
        let date = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let text = serde_json::to_string(&Envelope::new(date, &failure)).unwrap();
        assert_eq!(
            text,
            r#"{"schema":1,"as_of":"2026-11-25","error":{"message":"broken"}}"#
        );
    }
}
