//! Targeting conditions as written in TOML: `{ attr = NAME, OP = VALUE }`.

pub use crate::eval::{Condition, Op, Operand};

use serde_json::Value;

/// A condition as written: `{ attr = NAME, OP = VALUE }`.
pub(crate) type RawCondition =
    toml::Spanned<indexmap::IndexMap<String, toml::Spanned<toml::Value>>>;

/// Turns written conditions into [`Condition`]s, collecting every problem.
pub(crate) fn parse_conditions(
    raw: &[RawCondition],
    problems: &mut Vec<super::Problem>,
) -> Vec<Condition> {
    let mut conditions: Vec<Condition> = raw
        .iter()
        .filter_map(|condition| match parse_condition(condition) {
            Ok(condition) => Some(condition),
            Err(problem) => {
                problems.push(problem);
                None
            }
        })
        .collect();
    // Held for every rule of the repository: no room for conditions that are not there.
    conditions.shrink_to_fit();
    conditions
}

fn parse_condition(raw: &RawCondition) -> Result<Condition, super::Problem> {
    use super::Problem;
    let usage = "write a condition as `{ attr = \"country\", in = [\"SG\"] }`";
    let table = raw.get_ref();
    let attr = match table.get("attr").map(|v| (v.span(), v.get_ref())) {
        Some((_, toml::Value::String(attr))) if !attr.is_empty() => attr.clone(),
        Some((span, _)) => {
            return Err(Problem::new(span, "`attr` must be a non-empty string").with_help(usage));
        }
        None => {
            return Err(Problem::new(raw.span(), "condition has no `attr`").with_help(usage));
        }
    };
    let mut ops = table.iter().filter(|(name, _)| name.as_str() != "attr");
    let Some((op_name, value)) = ops.next() else {
        return Err(Problem::new(raw.span(), "condition has no operator").with_help(usage));
    };
    if let Some((extra, value)) = ops.next() {
        return Err(Problem::new(
            value.span(),
            format!("condition has a second operator `{extra}`"),
        )
        .with_help("one operator per condition; list several conditions to AND them"));
    }
    let Some(op) = Op::from_name(op_name) else {
        let names = Op::ALL.map(Op::name);
        let problem = Problem::new(value.span(), format!("unknown operator `{op_name}`"));
        return Err(
            match super::names::did_you_mean(op_name, names.iter().copied()) {
                Some(near) => problem.with_help(format!("did you mean `{near}`?")),
                None => problem.with_help(format!("operators: {}", names.join(", "))),
            },
        );
    };
    let json = super::parse::toml_to_json(value.get_ref())
        .map_err(|message| Problem::new(value.span(), message))?;
    check_operand(op, &json)
        .map_err(|message| Problem::new(value.span(), format!("`{op_name}` {message}")))?;
    Ok(Condition {
        attr,
        op,
        value: json,
    })
}

fn check_operand(op: Op, value: &Value) -> Result<(), String> {
    let scalar = |v: &Value| v.is_string() || v.is_number() || v.is_boolean();
    let ok = match op.operand() {
        Operand::Scalar => scalar(value),
        Operand::List => value
            .as_array()
            .is_some_and(|items| items.iter().all(scalar)),
        Operand::String => value.is_string(),
        Operand::Number => value.is_number(),
        Operand::Semver => {
            return match value.as_str() {
                Some(text) if parse_semver(text).is_some() => Ok(()),
                Some(text) => Err(format!(
                    "needs a semantic version like \"1.2.3\", not {text:?}"
                )),
                None => Err("needs a semantic version string like \"1.2.3\"".into()),
            };
        }
    };
    let expected = match op.operand() {
        Operand::Scalar => "a string, number or boolean",
        Operand::List => "an array of strings, numbers or booleans",
        Operand::String => "a string",
        _ => "a number",
    };
    if ok {
        Ok(())
    } else {
        Err(format!("needs {expected}"))
    }
}

/// Parses a semantic version as flagd does, accepting a leading `v`.
pub fn parse_semver(text: &str) -> Option<semver::Version> {
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    semver::Version::parse(text).ok()
}
