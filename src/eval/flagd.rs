//! Loading a flagd flag-definition file (https://flagd.dev/reference/flag-definitions/).

use anyhow::{Context as _, Result, bail};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::flag::{Flag, State, Targeting};
use super::logic::Logic;
use super::set::FlagSet;

/// How deep `$ref`s may nest inside `$evaluators` before they count as a cycle.
const MAX_REF_DEPTH: usize = 32;

/// How many JSON values the `$ref`s of one flag's targeting may expand to. Evaluators
/// that each refer to the next twice double at every level, so 32 levels of a few bytes
/// would otherwise expand to billions of values.
const MAX_REF_EXPANSION: usize = 1 << 20;

/// How deep a flag's targeting may nest once its `$ref`s are substituted: twice what a
/// JSON document may nest (serde_json stops at 128), and shallow enough that compiling,
/// evaluating and dropping it recurse within any thread's stack. Without it, 32 levels
/// of `$ref`s to evaluators each nested 128 deep nest 4,096 deep.
const MAX_NESTING: usize = 256;

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
            let mut substitution = Substitution {
                evaluators,
                expansion: MAX_REF_EXPANSION,
            };
            let rule = substitution.substitute(rule, 0, 0)?;
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

/// The substitution of the `$ref`s of one flag's targeting.
struct Substitution<'e> {
    evaluators: &'e Map<String, Value>,
    /// What is left of [`MAX_REF_EXPANSION`].
    expansion: usize,
}

impl Substitution<'_> {
    /// `value` with each `{"$ref": name}` replaced by evaluator `name`, itself substituted.
    /// A `$ref` to no evaluator is left in place, for the compiler to report. `refs` is how
    /// many `$ref`s led here and `nesting` how many arrays and objects enclose `value`.
    fn substitute(&mut self, value: &Value, refs: usize, nesting: usize) -> Result<Value> {
        if refs > 0 {
            let Some(left) = self.expansion.checked_sub(1) else {
                bail!(
                    "its `$ref`s expand to more than {MAX_REF_EXPANSION} values: do the $evaluators refer to each other many times over?"
                );
            };
            self.expansion = left;
        }
        if nesting > MAX_NESTING {
            bail!(
                "with its `$ref`s substituted, it nests more than {MAX_NESTING} arrays and objects deep"
            );
        }
        match value {
            Value::Object(members) => {
                if let (1, Some(Value::String(name))) = (members.len(), members.get("$ref"))
                    && let Some(evaluator) = self.evaluators.get(name)
                {
                    if refs >= MAX_REF_DEPTH {
                        bail!(
                            "`$ref`s nest more than {MAX_REF_DEPTH} deep at \"{name}\": do the $evaluators refer to each other in a cycle?"
                        );
                    }
                    return self.substitute(evaluator, refs + 1, nesting);
                }
                let members = members
                    .iter()
                    .map(|(key, member)| {
                        Ok((key.clone(), self.substitute(member, refs, nesting + 1)?))
                    })
                    .collect::<Result<Map<_, _>>>()?;
                Ok(Value::Object(members))
            }
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|item| self.substitute(item, refs, nesting + 1))
                    .collect::<Result<_>>()?,
            )),
            other => Ok(other.clone()),
        }
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
    fn refs_that_expand_without_bound_are_an_error() {
        let mut evaluators = serde_json::Map::new();
        evaluators.insert("e0".into(), json!({"var": "x"}));
        for level in 1..30 {
            let below = format!("e{}", level - 1);
            evaluators.insert(
                format!("e{level}"),
                json!({"or": [{"$ref": below}, {"$ref": below}]}),
            );
        }
        let document = json!({
            "flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "targeting": {"$ref": "e29"}}},
            "$evaluators": evaluators,
        });
        let err = FlagSet::from_flagd_json(&document.to_string()).unwrap_err();
        assert!(
            format!("{err:#}").contains("expand to more than"),
            "{err:#}"
        );

        // Some levels of doubling are fine.
        let mut small = document.clone();
        small["flags"]["f"]["targeting"] = json!({"$ref": "e10"});
        assert!(FlagSet::from_flagd_json(&small.to_string()).is_ok());
    }

    #[test]
    fn refs_that_nest_too_deep_are_an_error() {
        // Each evaluator wraps the next in 30 `!`s, two levels each (object and array).
        let nested = |levels: usize| {
            let mut evaluators = serde_json::Map::new();
            evaluators.insert("e0".into(), json!({"var": "x"}));
            for level in 1..levels {
                let mut inner = json!({"$ref": format!("e{}", level - 1)});
                for _ in 0..30 {
                    inner = json!({"!": [inner]});
                }
                evaluators.insert(format!("e{level}"), inner);
            }
            let top = format!("e{}", levels - 1);
            let document = json!({
                "flags": {"f": {"state": "ENABLED", "variants": {"true": 1, "false": 0},
                                "defaultVariant": "false", "targeting": {"$ref": top}}},
                "$evaluators": evaluators,
            });
            FlagSet::from_flagd_json(&document.to_string())
        };
        let err = nested(32).unwrap_err();
        assert!(
            format!("{err:#}").contains("nests more than 256"),
            "{err:#}"
        );
        // Just under the limit (241 levels), it loads and evaluates on a test thread's stack.
        let set = nested(5).unwrap();
        let resolution = set.evaluate("f", &context(json!({"x": true})));
        assert_eq!(resolution.variant, Some("true"));
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
