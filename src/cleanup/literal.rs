//! The winning value written as a literal of the language it replaces a call in, with the
//! type the SDK method read it as.

use serde_json::Value;

use crate::refs::{Language, ValueType};

/// The deepest object value written as a literal.
const MAX_DEPTH: usize = 32;

/// Why a value cannot replace a call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// The method reads another type than the value's.
    Mismatch { read: ValueType },
    /// The language has no literal for the value.
    NoLiteral(String),
}

/// `value` as a literal of `language`, as the SDK method reading `read` returns it; single
/// quotes for strings when `single_quotes` (the file's own key was written so).
pub(crate) fn render(
    language: Language,
    value: &Value,
    read: Option<ValueType>,
    single_quotes: bool,
) -> Result<String, Refusal> {
    let fits = match read {
        None => true,
        Some(ValueType::Boolean) => value.is_boolean(),
        Some(ValueType::String) => value.is_string(),
        Some(ValueType::Integer) => value.is_i64() || value.is_u64(),
        Some(ValueType::Float | ValueType::Number) => value.is_number(),
        Some(ValueType::Object) => value.is_object() || value.is_array(),
    };
    if !fits {
        return Err(Refusal::Mismatch {
            read: read.expect("None always fits"),
        });
    }
    let quote = if single_quotes && matches!(family(language), Family::Python | Family::Js) {
        '\''
    } else {
        '"'
    };
    let writer = Writer {
        family: family(language),
        quote,
    };
    match value {
        Value::Number(n) if read == Some(ValueType::Float) => Ok(float(n.as_f64().unwrap_or(0.0))),
        Value::Number(n) if read == Some(ValueType::Integer) => writer.integer(n),
        Value::Object(_) | Value::Array(_) => writer.object(value, 0),
        _ => writer.scalar(value),
    }
}

/// The spelling of a boolean in `language`.
pub(crate) fn boolean(language: Language, value: bool) -> &'static str {
    boolean_of(family(language), value)
}

fn boolean_of(family: Family, value: bool) -> &'static str {
    match (family, value) {
        (Family::Python, true) => "True",
        (Family::Python, false) => "False",
        (_, true) => "true",
        (_, false) => "false",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Python,
    Js,
    Go,
    Java,
    Rust,
}

fn family(language: Language) -> Family {
    match language {
        Language::Python => Family::Python,
        Language::JavaScript | Language::TypeScript | Language::Tsx => Family::Js,
        Language::Go => Family::Go,
        Language::Java | Language::Kotlin => Family::Java,
        Language::Rust => Family::Rust,
    }
}

fn family_name(family: Family) -> &'static str {
    match family {
        Family::Python => "Python",
        Family::Js => "JavaScript",
        Family::Go => "Go",
        Family::Java => "Java",
        Family::Rust => "Rust",
    }
}

/// A float with a decimal point, so that it stays a float (`1.0`, not `1`).
fn float(value: f64) -> String {
    let text = value.to_string();
    if text.contains(['.', 'e', 'E']) || !value.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

struct Writer {
    family: Family,
    quote: char,
}

impl Writer {
    fn scalar(&self, value: &Value) -> Result<String, Refusal> {
        Ok(match value {
            Value::Bool(b) => boolean_of(self.family, *b).into(),
            Value::Null => match self.family {
                Family::Python => "None".into(),
                Family::Js | Family::Java => "null".into(),
                Family::Go => "nil".into(),
                Family::Rust => return Err(self.no_literal("null")),
            },
            Value::Number(n) if n.is_f64() => float(n.as_f64().unwrap_or(0.0)),
            Value::Number(n) => self.integer(n)?,
            Value::String(s) => self.string(s),
            Value::Object(_) | Value::Array(_) => return Err(self.no_literal("an object value")),
        })
    }

    fn integer(&self, n: &serde_json::Number) -> Result<String, Refusal> {
        let text = n.to_string();
        match self.family {
            Family::Go => Ok(format!("int64({text})")),
            Family::Java if n.as_i64().is_none_or(|i| i32::try_from(i).is_err()) => Err(
                Refusal::NoLiteral(format!("{text} does not fit the Integer Java reads it as")),
            ),
            _ => Ok(text),
        }
    }

    fn no_literal(&self, what: &str) -> Refusal {
        Refusal::NoLiteral(format!(
            "{what} has no literal in {}",
            family_name(self.family)
        ))
    }

    fn string(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push(self.quote);
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c == self.quote => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                    let code = u32::from(c);
                    match self.family {
                        Family::Python if code <= 0xff => out.push_str(&format!("\\x{code:02x}")),
                        Family::Python => out.push_str(&format!("\\u{code:04x}")),
                        Family::Js => out.push_str(&format!("\\u{code:04x}")),
                        // Java reads `\uXXXX` before it reads the literal: octal instead.
                        Family::Java if code <= 0xff => out.push_str(&format!("\\{code:03o}")),
                        Family::Go if code <= 0x7f => out.push_str(&format!("\\x{code:02x}")),
                        Family::Go => out.push_str(&format!("\\u{code:04x}")),
                        Family::Rust => out.push_str(&format!("\\u{{{code:x}}}")),
                        Family::Java => out.push(c),
                    }
                }
                c => out.push(c),
            }
        }
        out.push(self.quote);
        if self.family == Family::Rust {
            // The SDK returns an owned String.
            return format!("String::from({out})");
        }
        out
    }

    /// An object or array: a dict or list in Python, an object or array in JavaScript.
    fn object(&self, value: &Value, depth: usize) -> Result<String, Refusal> {
        if !matches!(self.family, Family::Python | Family::Js) {
            return Err(self.no_literal("an object value"));
        }
        if depth > MAX_DEPTH {
            return Err(Refusal::NoLiteral(format!(
                "the value nests deeper than {MAX_DEPTH} levels"
            )));
        }
        let plain = Writer {
            family: self.family,
            quote: self.quote,
        };
        match value {
            Value::Object(members) => {
                let items: Result<Vec<String>, Refusal> = members
                    .iter()
                    .map(|(k, v)| {
                        Ok(format!(
                            "{}: {}",
                            plain.string(k),
                            self.object(v, depth + 1)?
                        ))
                    })
                    .collect();
                Ok(format!("{{{}}}", items?.join(", ")))
            }
            Value::Array(items) => {
                let items: Result<Vec<String>, Refusal> =
                    items.iter().map(|v| self.object(v, depth + 1)).collect();
                Ok(format!("[{}]", items?.join(", ")))
            }
            scalar => self.scalar(scalar),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lit(language: Language, value: Value, read: Option<ValueType>) -> Result<String, Refusal> {
        render(language, &value, read, false)
    }

    #[test]
    fn scalars_in_each_language() {
        use Language::*;
        assert_eq!(
            lit(Python, json!(true), Some(ValueType::Boolean)).unwrap(),
            "True"
        );
        assert_eq!(
            lit(Go, json!(false), Some(ValueType::Boolean)).unwrap(),
            "false"
        );
        assert_eq!(
            lit(Go, json!(3), Some(ValueType::Integer)).unwrap(),
            "int64(3)"
        );
        assert_eq!(lit(Java, json!(3), Some(ValueType::Float)).unwrap(), "3.0");
        assert_eq!(
            lit(Rust, json!(0.25), Some(ValueType::Float)).unwrap(),
            "0.25"
        );
        assert_eq!(
            lit(Rust, json!("v2"), Some(ValueType::String)).unwrap(),
            "String::from(\"v2\")"
        );
        assert_eq!(
            render(JavaScript, &json!("it's"), Some(ValueType::String), true).unwrap(),
            "'it\\'s'"
        );
        assert_eq!(
            lit(Java, json!("a\u{1}\"b"), None).unwrap(),
            "\"a\\001\\\"b\""
        );
        assert_eq!(lit(Go, json!("\u{7}é"), None).unwrap(), "\"\\x07é\"");
        assert!(matches!(
            lit(Java, json!(1i64 << 40), Some(ValueType::Integer)),
            Err(Refusal::NoLiteral(_))
        ));
    }

    #[test]
    fn a_type_the_method_does_not_read_is_refused() {
        assert_eq!(
            lit(Language::Python, json!("on"), Some(ValueType::Boolean)),
            Err(Refusal::Mismatch {
                read: ValueType::Boolean
            })
        );
        assert!(lit(Language::Go, json!(1.5), Some(ValueType::Integer)).is_err());
        assert_eq!(
            lit(Language::Go, json!(2), Some(ValueType::Float)).unwrap(),
            "2.0"
        );
    }

    #[test]
    fn objects_only_where_the_language_has_a_literal() {
        let value = json!({"model": "ranker", "on": true, "weights": [1, 2.5, null]});
        assert_eq!(
            lit(Language::Python, value.clone(), Some(ValueType::Object)).unwrap(),
            "{\"model\": \"ranker\", \"on\": True, \"weights\": [1, 2.5, None]}"
        );
        assert_eq!(
            lit(Language::TypeScript, value.clone(), Some(ValueType::Object)).unwrap(),
            "{\"model\": \"ranker\", \"on\": true, \"weights\": [1, 2.5, null]}"
        );
        for language in [Language::Go, Language::Java, Language::Rust] {
            assert!(matches!(
                lit(language, value.clone(), Some(ValueType::Object)),
                Err(Refusal::NoLiteral(_))
            ));
        }
        let mut deep = json!(1);
        for _ in 0..100 {
            deep = json!([deep]);
        }
        assert!(lit(Language::Python, deep, None).is_err());
    }
}
