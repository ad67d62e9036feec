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

/// JSON that shows nothing hidden: serde escapes the C0 controls; this also escapes DEL,
/// the C1 controls, the line and paragraph separators and the bidi overrides as `\uXXXX`,
/// so a JSON document read in a terminal or a CI log carries no invisible text, and the
/// document means exactly the same to a parser.
struct Visible<F>(F);

pub use crate::model::source::{is_hidden, shown};

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for Visible<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if fragment.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (index, c) in fragment.char_indices() {
            if is_hidden(c) {
                writer.write_all(&fragment.as_bytes()[start..index])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = index + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    // Everything else as the wrapped formatter writes it.
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as pretty JSON with nothing hidden (see [`Visible`]).
pub fn write_json<W: std::io::Write, T: Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(
        out,
        Visible(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut serializer)
}

/// Writes `value` as one line of JSON with nothing hidden (see [`Visible`]).
pub fn write_json_line<W: std::io::Write, T: Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut serializer =
        serde_json::Serializer::with_formatter(out, Visible(serde_json::ser::CompactFormatter));
    value.serialize(&mut serializer)
}

#[cfg(test)]
mod visible_tests {
    #[test]
    fn hidden_characters_are_escaped_and_the_value_is_unchanged() {
        let text = "a\u{1b}b\u{85}c\u{2028}d\u{202e}e\u{1F600}";
        let mut out = Vec::new();
        super::write_json_line(&mut out, &text).unwrap();
        let json = String::from_utf8(out).unwrap();
        assert_eq!(json, "\"a\\u001bb\\u0085c\\u2028d\\u202ee\u{1F600}\"");
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), text);
    }
}
