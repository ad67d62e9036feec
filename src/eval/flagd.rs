//! Loading a flagd flag-definition file (https://flagd.dev/reference/flag-definitions/).

use anyhow::{Context as _, Result, bail};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::flag::{Flag, State, Targeting};
use super::logic::Logic;
use super::set::FlagSet;

/// How deep `$ref`s may nest inside `$evaluators` before they count as a cycle.
const MAX_REF_DEPTH: usize = 32;

impl FlagSet {
    /// Reads a flagd flag-definition file: `flags`, shared `$evaluators` substituted for
    /// each `{"$ref": name}`, and flag-set `metadata`.
    ///
    /// As in flagd, targeting that does not compile (an unknown operator, a `$ref` to no
    /// evaluator) does not stop the file from loading: that flag fails each evaluation with
    /// `PARSE_ERROR`. Anything else out of shape is an error naming the flag and field.
    pub fn from_flagd_json(text: &str) -> Result<FlagSet> {
        let document: Value =
            serde_json::from_str(text).context("the flag definition is not valid JSON")?;
        let Value::Object(document) = document else {
            bail!("the flag definition must be a JSON object with a `flags` object");
        };
        let empty = Map::new();
        let evaluators = match document.get("$evaluators") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(evaluators)) => evaluators,
            Some(other) => bail!("`$evaluators` must be an object, not {}", kind(other)),
        };
        let mut set = FlagSet::new();
        match document.get("metadata") {
            None | Some(Value::Null) => {}
            Some(Value::Object(metadata)) => set.set_metadata(metadata.clone()),
            Some(other) => bail!("`metadata` must be an object, not {}", kind(other)),
        }
        let flags = match document.get("flags") {
            Some(Value::Object(flags)) => flags,
            Some(other) => bail!("`flags` must be an object, not {}", kind(other)),
            None => bail!("the flag definition has no `flags` object"),
        };
        for (key, definition) in flags {
            let flag =
                flag(key, definition, evaluators).with_context(|| format!("flag \"{key}\""))?;
            set.insert(flag);
        }
        Ok(set)
    }
}

fn flag(key: &str, definition: &Value, evaluators: &Map<String, Value>) -> Result<Flag> {
    let Value::Object(definition) = definition else {
        bail!("must be an object, not {}", kind(definition));
    };
    let state = match definition.get("state") {
        Some(Value::String(state)) if state == "ENABLED" => State::Enabled,
        Some(Value::String(state)) if state == "DISABLED" => State::Disabled,
        Some(other) => bail!("`state` must be \"ENABLED\" or \"DISABLED\", not {other}"),
        None => bail!("`state` is missing (\"ENABLED\" or \"DISABLED\")"),
    };
    let variants: IndexMap<String, Value> = match definition.get("variants") {
        Some(Value::Object(variants)) => variants.clone().into_iter().collect(),
        Some(other) => bail!("`variants` must be an object, not {}", kind(other)),
        None => bail!("`variants` is missing"),
    };
    let default_variant = match definition.get("defaultVariant") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) if variants.contains_key(name) => Some(name.clone()),
        Some(Value::String(name)) => {
            let declared: Vec<&str> = variants.keys().map(String::as_str).collect();
            bail!(
                "`defaultVariant` \"{name}\" is not one of its variants ({})",
                declared.join(", ")
            )
        }
        Some(other) => bail!(
            "`defaultVariant` must be a string or null, not {}",
            kind(other)
        ),
    };
    let metadata = match definition.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(metadata)) => metadata.clone(),
        Some(other) => bail!("`metadata` must be an object, not {}", kind(other)),
    };
    let targeting = match definition.get("targeting") {
        None | Some(Value::Null) => Targeting::None,
        Some(Value::Object(rule)) if rule.is_empty() => Targeting::None,
        Some(rule) => {
            let rule = substitute_refs(rule, evaluators, 0)?;
            match Logic::compile(&rule) {
                Ok(logic) => Targeting::Logic(logic),
                Err(error) => Targeting::Invalid(format!("targeting of flag \"{key}\": {error}")),
            }
        }
    };
    Ok(Flag {
        key: key.to_owned(),
        state,
        variants,
        default_variant,
        metadata,
        targeting,
    })
}

/// Replaces each `{"$ref": name}` with evaluator `name`, itself substituted. A `$ref` to
/// no evaluator is left in place, for the compiler to report.
fn substitute_refs(value: &Value, evaluators: &Map<String, Value>, depth: usize) -> Result<Value> {
    match value {
        Value::Object(members) => {
            if let (1, Some(Value::String(name))) = (members.len(), members.get("$ref"))
                && let Some(evaluator) = evaluators.get(name)
            {
                if depth >= MAX_REF_DEPTH {
                    bail!(
                        "`$ref`s nest more than {MAX_REF_DEPTH} deep at \"{name}\": do the $evaluators refer to each other in a cycle?"
                    );
                }
                return substitute_refs(evaluator, evaluators, depth + 1);
            }
            let members = members
                .iter()
                .map(|(key, member)| Ok((key.clone(), substitute_refs(member, evaluators, depth)?)))
                .collect::<Result<Map<_, _>>>()?;
            Ok(Value::Object(members))
        }
        Value::Array(items) => Ok(Value::Array(
            items
                .iter()
                .map(|item| substitute_refs(item, evaluators, depth))
                .collect::<Result<_>>()?,
        )),
        other => Ok(other.clone()),
    }
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::eval::set::{ErrorCode, Reason};

    fn context(value: Value) -> crate::eval::Context {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn refs_are_substituted_recursively() {
        let set = FlagSet::from_flagd_json(
            r#"{
              "flags": {
                "f": {"state": "ENABLED", "variants": {"on": true, "off": false},
                      "defaultVariant": "off",
                      "targeting": {"if": [{"$ref": "is_staff"}, "on", null]}}
              },
              "$evaluators": {
                "is_staff": {"and": [{"$ref": "has_email"}, {"ends_with": [{"var": "email"}, "@corp.com"]}]},
                "has_email": {"!!": [{"var": "email"}]}
              }
            }"#,
        )
        .unwrap();
        let staff = set.evaluate("f", &context(json!({"email": "a@corp.com"})));
        assert_eq!(
            (staff.variant, staff.reason),
            (Some("on"), Reason::TargetingMatch)
        );
        let other = set.evaluate("f", &context(json!({"email": "a@else.com"})));
        assert_eq!(
            (other.variant, other.reason),
            (Some("off"), Reason::Default)
        );
    }

    #[test]
    fn unresolvable_targeting_fails_at_evaluation() {
        let set = FlagSet::from_flagd_json(
            r#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a",
                 "targeting": {"if": [{"$ref": "nowhere"}, "a", null]}}}}"#,
        )
        .unwrap();
        let resolution = set.evaluate("f", &context(json!({})));
        let error = resolution.error.unwrap();
        assert_eq!(error.code, ErrorCode::ParseError);
        assert!(error.message.contains("nowhere"), "{}", error.message);
    }

    #[test]
    fn cyclic_refs_are_an_error() {
        let err = FlagSet::from_flagd_json(
            r#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "targeting": {"$ref": "x"}}},
               "$evaluators": {"x": {"!": {"$ref": "x"}}}}"#,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("cycle"), "{err:#}");
    }

    #[test]
    fn errors_name_the_flag_and_field() {
        let cases = [
            ("[]", "must be a JSON object"),
            (r#"{"flag": {}}"#, "no `flags` object"),
            (
                r#"{"flags": {"f": {"variants": {"a": 1}}}}"#,
                "flag \"f\": `state` is missing",
            ),
            (
                r#"{"flags": {"f": {"state": "ON", "variants": {}}}}"#,
                "`state` must be",
            ),
            (
                r#"{"flags": {"f": {"state": "ENABLED"}}}"#,
                "`variants` is missing",
            ),
            (
                r#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "b"}}}"#,
                "`defaultVariant` \"b\" is not one of its variants (a)",
            ),
            ("{", "not valid JSON"),
        ];
        for (text, expected) in cases {
            let err = format!("{:#}", FlagSet::from_flagd_json(text).unwrap_err());
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn metadata_merges_flag_over_set() {
        let set = FlagSet::from_flagd_json(
            r#"{"metadata": {"version": "abc", "team": "core"},
                "flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a",
                                "metadata": {"team": "ranking", "gone": null}}}}"#,
        )
        .unwrap();
        let metadata = set.evaluate("f", &context(json!({}))).metadata();
        assert_eq!(
            Value::Object(metadata),
            json!({"version": "abc", "team": "ranking"})
        );
        let missing = set.evaluate("nope", &context(json!({}))).metadata();
        assert_eq!(
            Value::Object(missing),
            json!({"version": "abc", "team": "core"})
        );
    }

    #[test]
    fn empty_targeting_is_none() {
        let set = FlagSet::from_flagd_json(
            r#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a", "targeting": {}}}}"#,
        )
        .unwrap();
        assert!(matches!(set.get("f").unwrap().targeting, Targeting::None));
        assert_eq!(
            set.evaluate("f", &context(json!({}))).reason,
            Reason::Static
        );
    }
}
