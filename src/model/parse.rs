//! Shared parsing helpers: problems with spans, TOML dates, serde errors made readable.

use std::ops::Range;

use chrono::NaiveDate;
use toml::Spanned;
use toml::value::Datetime;

use super::names::did_you_mean;
use super::schema::{Shape, unknown_keys};

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

/// Parses a TOML document once and deserializes it, reporting in one run every syntax
/// error, every unknown key (with the nearest known one), every value of the wrong type
/// and every missing key of `required`. Unknown keys do not stop reading: the value comes
/// back with them as problems, so that the caller's own checks still run. Only a document
/// that cannot be read (bad syntax, wrong types, missing keys) is an `Err`.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    shape: &Shape,
    required: &[&str],
) -> Result<(T, Vec<Problem>), Vec<Problem>> {
    let (table, errors) = toml::de::DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors.iter().map(|e| syntax_problem(text, e)).collect());
    }
    let mut problems = Vec::new();
    unknown_keys(table.get_ref(), shape, &mut problems);
    for key in required {
        if !table.get_ref().iter().any(|(k, _)| k.get_ref() == key) {
            problems.push(
                Problem::new(0..0, format!("missing required key `{key}`"))
                    .with_help(format!("add `{key} = …` at the top of the file")),
            );
        }
    }
    match T::deserialize(toml::de::Deserializer::from(table)) {
        Ok(value) => Ok((value, problems)),
        Err(error) => {
            let problem = serde_problem(&error);
            // The checks above usually found it already, with a better message.
            let known = problems.iter().any(|p| {
                p.span == problem.span
                    || (problem.message.contains("missing required key")
                        && p.message.contains("missing required key"))
            });
            if !known {
                problems.push(problem);
            }
            Err(problems)
        }
    }
}

/// A TOML syntax error as a [`Problem`]; a date written with slashes gets a hint, since
/// TOML reads it as an unquoted string.
fn syntax_problem(text: &str, error: &toml::de::Error) -> Problem {
    let span = error.span().unwrap_or(0..0);
    let problem = Problem::new(span.clone(), error.message().trim());
    let line_end = text[span.start.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| span.start + i);
    let written = text.get(span.start..line_end).unwrap_or_default().trim();
    let slashed: Vec<&str> = written.split('/').collect();
    if slashed.len() == 3
        && slashed
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return problem.with_help("write dates as YYYY-MM-DD without quotes, such as 2026-12-01");
    }
    problem
}

/// serde's error as a [`Problem`], naming the nearest known key for an unknown one.
fn serde_problem(error: &toml::de::Error) -> Problem {
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
    // The help shows the date that was written, when there is one.
    let example = datetime
        .date
        .map_or_else(|| "2026-11-01".to_string(), |d| d.to_string());
    let not_a_date = || {
        Problem::new(value.span(), format!("`{key}` must be a local date")).with_help(format!(
            "write it as `{key} = {example}`, without time or offset"
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
    toml_to_json_with(value, &|_| {
        Err("dates are not allowed here; write the date as a string".into())
    })
}

/// A TOML value as JSON, each date-time as `datetime` makes it.
pub(crate) fn toml_to_json_with(
    value: &toml::Value,
    datetime: &dyn Fn(&Datetime) -> Result<serde_json::Value, String>,
) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| format!("{f} has no JSON form; use a finite number"))?,
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => datetime(d)?,
        toml::Value::Array(items) => J::Array(
            items
                .iter()
                .map(|item| toml_to_json_with(item, datetime))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => J::Object(
            table
                .iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json_with(v, datetime)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        owner: String,
        kind: String,
        #[serde(default)]
        rules: Vec<toml::Table>,
    }

    static RULE: Shape = Shape::Table(&[("name", Shape::Any), ("serve", Shape::Any)]);
    static SAMPLE: Shape = Shape::Table(&[
        ("owner", Shape::Any),
        ("kind", Shape::Any),
        ("rules", Shape::List(&RULE)),
    ]);

    #[test]
    fn every_unknown_key_is_named_with_the_nearest_known_key() {
        let text =
            "kind = \"x\"\nownr = \"y\"\nowner = \"z\"\n[[rules]]\nnam = \"a\"\nserve = \"on\"\n";
        let problems = from_toml::<Sample>(text, &SAMPLE, &[]).unwrap().1;
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].message, "unknown key `ownr`");
        assert_eq!(problems[0].help.as_deref(), Some("did you mean `owner`?"));
        assert_eq!(&text[problems[0].span.clone()], "ownr");
        assert_eq!(problems[1].help.as_deref(), Some("did you mean `name`?"));
    }

    #[test]
    fn every_syntax_error_is_reported() {
        let problems = from_toml::<Sample>("kind = = 1\nowner = \"x\"\nother = [\n", &SAMPLE, &[])
            .unwrap_err();
        assert!(problems.len() >= 2, "{problems:?}");
    }

    #[test]
    fn missing_keys_are_named() {
        let problems = from_toml::<Sample>("kind = \"x\"\n", &SAMPLE, &["owner"]).unwrap_err();
        assert!(
            problems[0].message.contains("missing required key `owner`"),
            "{}",
            problems[0].message
        );
    }
}
