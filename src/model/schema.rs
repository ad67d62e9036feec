//! The keys each table of a file may hold, checked before typed parsing so that one run
//! reports every unknown key of a file (with the nearest known key), not only the first.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Problem;
use super::names::did_you_mean;

/// What a value may contain.
pub(crate) enum Shape {
    /// Anything: checked by typed parsing (values, conditions, severities).
    Any,
    /// A value of one type, checked here so that one run reports every wrong type.
    Leaf(Leaf),
    /// A table with these keys.
    Table(&'static [(&'static str, Shape)]),
    /// A table whose keys are names, each value of the inner shape.
    Map(&'static Shape),
    /// An array whose items have the inner shape (tables in practice).
    List(&'static Shape),
}

/// The type of a leaf value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaf {
    Str,
    /// A whole number, zero or more.
    Count,
    Bool,
    /// A TOML local date, such as `2026-11-01`.
    Date,
    /// An array of strings.
    Strs,
}

impl Leaf {
    /// What a value must be, for messages: "a string", "a whole number ≥ 0", …
    fn describe(self) -> &'static str {
        match self {
            Leaf::Str => "a string",
            Leaf::Count => "a whole number, 0 or more",
            Leaf::Bool => "true or false",
            Leaf::Date => "a date such as 2026-11-01",
            Leaf::Strs => "an array of strings",
        }
    }

    fn accepts(self, value: &DeValue) -> bool {
        match (self, value) {
            (Leaf::Str, DeValue::String(_)) | (Leaf::Bool, DeValue::Boolean(_)) => true,
            (Leaf::Date, DeValue::Datetime(_)) => true,
            (Leaf::Count, DeValue::Integer(n)) => !n.as_str().starts_with('-'),
            (Leaf::Strs, DeValue::Array(items)) => items
                .iter()
                .all(|item| matches!(item.get_ref(), DeValue::String(_))),
            _ => false,
        }
    }
}

/// A value's type as a person reads it: "a string", "an integer", …
fn type_of(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(n) if n.as_str().starts_with('-') => "a negative integer",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date or time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Unknown keys and values of the wrong type anywhere in `table`, in file order.
pub(crate) fn unknown_keys(table: &DeTable, shape: &Shape, problems: &mut Vec<Problem>) {
    let Shape::Table(fields) = shape else { return };
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match fields.iter().find(|(field, _)| *field == name) {
            Some((_, Shape::Leaf(leaf))) if !leaf.accepts(value.get_ref()) => {
                problems.push(wrong_type(name, value, *leaf))
            }
            Some((_, inner)) => check_value(value, inner, problems),
            None => {
                let problem = Problem::new(key.span(), format!("unknown key `{name}`"));
                let known = fields.iter().map(|(field, _)| *field);
                problems.push(match did_you_mean(name, known.clone()) {
                    Some(near) => problem.with_help(format!("did you mean `{near}`?")),
                    None => problem.with_help(format!(
                        "known keys: {}",
                        known.collect::<Vec<_>>().join(", ")
                    )),
                });
            }
        }
    }
}

/// `key` holds a value of another type than `leaf`.
fn wrong_type(key: &str, value: &Spanned<DeValue>, leaf: Leaf) -> Problem {
    let problem = Problem::new(
        value.span(),
        format!(
            "`{key}` must be {}, not {}",
            leaf.describe(),
            type_of(value.get_ref())
        ),
    );
    match (leaf, value.get_ref()) {
        (Leaf::Date, DeValue::String(_)) => problem.with_help(format!(
            "write the date without quotes: `{key} = 2026-11-01`"
        )),
        (Leaf::Str, _) => problem.with_help(format!("quote it: `{key} = \"…\"`")),
        _ => problem,
    }
}

fn check_value(value: &Spanned<DeValue>, shape: &Shape, problems: &mut Vec<Problem>) {
    match (value.get_ref(), shape) {
        (DeValue::Table(table), Shape::Table(_)) => unknown_keys(table, shape, problems),
        (DeValue::Table(table), Shape::Map(inner)) => {
            for (key, item) in table.iter() {
                match inner {
                    Shape::Leaf(leaf) if !leaf.accepts(item.get_ref()) => {
                        problems.push(wrong_type(key.get_ref(), item, *leaf))
                    }
                    _ => check_value(item, inner, problems),
                }
            }
        }
        (DeValue::Array(items), Shape::List(inner)) => {
            for item in items.iter() {
                check_value(item, inner, problems);
            }
        }
        // A value of another type is reported by typed parsing, with its expected type.
        _ => {}
    }
}
