//! Loading a flagd flag-definition file (https://flagd.dev/reference/flag-definitions/).

use anyhow::{Context as _, Result, bail};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::flag::{Flag, State, Targeting};
use super::logic::Evaluators;
use super::set::FlagSet;

impl FlagSet {
    /// Reads a flagd flag-definition file: `flags`, shared `$evaluators` that each
    /// `{"$ref": name}` stands for, and flag-set `metadata`. Each evaluator is compiled
    /// once and shared by every reference to it, so loading and evaluating take time
    /// linear in the file, however the references fan out.
    ///
    /// As in flagd, targeting that does not compile (an unknown operator, a `$ref` to no
    /// evaluator) does not stop the file from loading: that flag fails each evaluation with
    /// `PARSE_ERROR`. `$ref`s in a cycle, or nested more than 32 deep, stop it, as does
    /// anything else out of shape, with an error naming the flag and field.
    pub fn from_flagd_json(text: &str) -> Result<FlagSet> {
        let document: Value =
            serde_json::from_str(text).context("the flag definition is not valid JSON")?;
        let Value::Object(document) = document else {
            bail!("the flag definition must be a JSON object with a `flags` object");
        };
        let empty = Map::new();
        let evaluators = Evaluators::new(match document.get("$evaluators") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(evaluators)) => evaluators,
            Some(other) => bail!("`$evaluators` must be an object, not {}", kind(other)),
        });
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
                flag(key, definition, &evaluators).with_context(|| format!("flag \"{key}\""))?;
            set.insert(flag);
        }
        Ok(set)
    }
}

fn flag(key: &str, definition: &Value, evaluators: &Evaluators) -> Result<Flag> {
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
        Some(rule) => match evaluators.targeting(rule)? {
            Ok(logic) => Targeting::Logic(logic),
            Err(error) => Targeting::Invalid(format!("targeting of flag \"{key}\": {error}")),
        },
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
    fn targeting_without_a_declared_variant_is_general() {
        // Go flagd and the JS, Java and Python engines all fail these with GENERAL.
        let set = FlagSet::from_flagd_json(
            r#"{"flags": {
                "undeclared": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a",
                               "targeting": {"if": [true, "b"]}},
                "object": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a",
                           "targeting": {"if": [true, {"merge": [["a"]]}]}}}}"#,
        )
        .unwrap();
        for key in ["undeclared", "object"] {
            let resolution = set.evaluate(key, &context(json!({})));
            assert_eq!(resolution.reason, Reason::Error, "{key}");
            assert_eq!(
                resolution.error.map(|e| e.code),
                Some(ErrorCode::General),
                "{key}"
            );
        }
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
    fn refs_that_fan_out_are_shared_not_expanded() {
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
        // 2^29 references in all, each evaluator compiled and evaluated once.
        let set = FlagSet::from_flagd_json(&document.to_string()).unwrap();
        let resolution = set.evaluate("f", &context(json!({"x": "a"})));
        assert_eq!(resolution.variant, Some("a"));
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
            format!("{err:#}").contains("more than the 127 flagctl evaluates"),
            "{err:#}"
        );
        // Under the limit (61 levels), it loads and evaluates on a test thread's stack.
        let set = nested(2).unwrap();
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

    /// A file whose flag `f` is on when `e0` holds, and `e0`..`e{levels - 1}` each join
    /// two references to the next with `op`; the last compares `x` with 1.
    fn fanning_refs(levels: usize, op: &str) -> String {
        let mut evaluators = Map::new();
        for level in 0..levels {
            let next = json!({"$ref": format!("e{}", level + 1)});
            evaluators.insert(format!("e{level}"), json!({op: [next, next]}));
        }
        evaluators.insert(format!("e{levels}"), json!({"==": [{"var": "x"}, 1]}));
        json!({
            "flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false},
                            "defaultVariant": "off", "targeting": {"if": [{"$ref": "e0"}, "on", "off"]}}},
            "$evaluators": evaluators,
        })
        .to_string()
    }

    #[test]
    fn refs_that_fan_out_load_and_evaluate_once_each() {
        // Substituted, each file would hold 2^30 copies of the last evaluator.
        for op in ["or", "=="] {
            let set = FlagSet::from_flagd_json(&fanning_refs(30, op)).unwrap();
            let on = set.evaluate("f", &context(json!({"x": 1})));
            let off = set.evaluate("f", &context(json!({"x": 2})));
            let expected = if op == "or" {
                ("on", "off")
            } else {
                ("on", "on")
            };
            assert_eq!(
                (on.variant, off.variant),
                (Some(expected.0), Some(expected.1))
            );
        }
    }

    #[test]
    fn a_ref_inside_map_is_evaluated_for_each_element() {
        let set = FlagSet::from_flagd_json(
            r#"{"flags": {"f": {"state": "ENABLED", "variants": {"yes": 1, "no": 0}, "defaultVariant": "no",
                 "targeting": {"if": [{"==": [{"cat": {"map": [{"var": "xs"}, {"$ref": "double"}]}}, "2,4,6"]}, "yes", "no"]}}},
               "$evaluators": {"double": {"*": [{"var": ""}, 2]}}}"#,
        )
        .unwrap();
        let r = set.evaluate("f", &context(json!({"xs": [1, 2, 3]})));
        assert_eq!(r.variant, Some("yes"));
    }

    #[test]
    fn refs_inside_data_are_substituted() {
        // `map` over a literal object reads into it: its `$ref` holds the evaluator.
        let set = FlagSet::from_flagd_json(
            r#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1, "b": 2}, "defaultVariant": "a",
                 "targeting": {"if": [{"==": [{"cat": {"map": [{"merge": [{"k": 1, "list": {"$ref": "xs"}}]}, {"var": "list.1"}]}}, "y"]}, "b", null]}}},
               "$evaluators": {"xs": ["x", "y"], "unused": {"cat": [{"$ref": "unused"}]}}}"#,
        )
        .unwrap();
        let r = set.evaluate("f", &context(json!({})));
        assert_eq!(r.variant, Some("b"), "{:?}", r.error);
    }

    #[test]
    fn refs_too_deep_or_too_nested_stop_the_file() {
        let err = FlagSet::from_flagd_json(&fanning_refs(40, "or")).unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains("`$ref`s nest more than 32 deep from \"e0\" (e0 → e1 → e2 → … → e40 (41 evaluators))"),
            "{err}"
        );
        // Each evaluator nests the next 8 levels deep: 20 of them nest 160 levels.
        let mut evaluators = Map::new();
        for level in 0..20 {
            let mut inner = json!({"$ref": format!("e{}", level + 1)});
            for _ in 0..8 {
                inner = json!({"!": [inner]});
            }
            evaluators.insert(format!("e{level}"), inner);
        }
        evaluators.insert("e20".to_owned(), json!(true));
        let text = json!({
            "flags": {"f": {"state": "ENABLED", "variants": {"on": true}, "targeting": {"$ref": "e0"}}},
            "$evaluators": evaluators,
        });
        let err = format!(
            "{:#}",
            FlagSet::from_flagd_json(&text.to_string()).unwrap_err()
        );
        assert!(err.contains("targeting nests 161 levels deep"), "{err}");
    }
}
