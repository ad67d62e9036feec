//! Shared parsing helpers: problems with spans, TOML dates, serde errors made readable.

use std::ops::Range;

use chrono::NaiveDate;
use toml::Spanned;
use toml::value::Datetime;

use super::names::did_you_mean;

/// Something wrong in a file, at a byte range, with an optional hint of what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Problem {
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Deserializes a TOML document, turning serde's error into a [`Problem`] that names the
/// nearest known key for an unknown one.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Problem> {
    toml::from_str(text).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim().to_string();
        match unknown_field(&message) {
            Some((field, expected)) => {
                let problem = Problem::new(span, format!("unknown key `{field}`"));
                match did_you_mean(&field, expected.iter().map(String::as_str)) {
                    Some(near) => problem.with_help(format!("did you mean `{near}`?")),
                    None => problem.with_help(format!("known keys: {}", expected.join(", "))),
                }
            }
            None => Problem::new(
                span,
                message.replace("missing field", "missing required key"),
            ),
        }
    })
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" into its parts.
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let expected = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((field.to_string(), expected))
}

/// A TOML local date (`2026-11-01`) as a chrono date, or a problem at its span.
pub(crate) fn local_date(
    value: &Spanned<Datetime>,
    key: &str,
) -> Result<Spanned<NaiveDate>, Problem> {
    let datetime = value.get_ref();
    let not_a_date = || {
        Problem::new(value.span(), format!("`{key}` must be a local date")).with_help(format!(
            "write it as `{key} = 2026-11-01`, without time or offset"
        ))
    };
    if datetime.time.is_some() || datetime.offset.is_some() {
        return Err(not_a_date());
    }
    let date = datetime.date.ok_or_else(not_a_date)?;
    NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
        .map(|d| Spanned::new(value.span(), d))
        .ok_or_else(not_a_date)
}

/// A TOML value as JSON; date-times have no JSON form and are refused.
pub(crate) fn toml_to_json(value: &toml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| format!("{f} has no JSON form; use a finite number"))?,
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(_) => {
            return Err("dates are not allowed here; write the date as a string".into());
        }
        toml::Value::Array(items) => {
            J::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => J::Object(
            table
                .iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        owner: String,
        kind: String,
    }

    #[test]
    fn unknown_keys_name_the_nearest_known_key() {
        let problem = from_toml::<Sample>("kind = \"x\"\nownr = \"y\"\n").unwrap_err();
        assert_eq!(problem.message, "unknown key `ownr`");
        assert_eq!(problem.help.as_deref(), Some("did you mean `owner`?"));
        assert_eq!(&"kind = \"x\"\nownr = \"y\"\n"[problem.span], "ownr");
    }

    #[test]
    fn missing_keys_are_named() {
        let problem = from_toml::<Sample>("kind = \"x\"\n").unwrap_err();
        assert!(
            problem.message.contains("missing required key `owner`"),
            "{}",
            problem.message
        );
    }
}
