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
    /// A table with these keys.
    Table(&'static [(&'static str, Shape)]),
    /// A table whose keys are names, each value of the inner shape.
    Map(&'static Shape),
    /// An array whose items have the inner shape (tables in practice).
    List(&'static Shape),
}

/// Unknown keys anywhere in `table`, in file order.
pub(crate) fn unknown_keys(table: &DeTable, shape: &Shape, problems: &mut Vec<Problem>) {
    let Shape::Table(fields) = shape else { return };
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match fields.iter().find(|(field, _)| *field == name) {
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

fn check_value(value: &Spanned<DeValue>, shape: &Shape, problems: &mut Vec<Problem>) {
    match (value.get_ref(), shape) {
        (DeValue::Table(table), Shape::Table(_)) => unknown_keys(table, shape, problems),
        (DeValue::Table(table), Shape::Map(inner)) => {
            for (_, item) in table.iter() {
                check_value(item, inner, problems);
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
