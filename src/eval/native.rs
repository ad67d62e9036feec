//! Native (TOML) targeting: conditions, layers and rollouts.
//!
//! Each operator holds exactly when the JSONLogic it exports to holds, so offline and
//! served results agree:
//!
//! | op | JSONLogic |
//! |---|---|
//! | `eq` / `ne` | `==` / `!=` (loose equality: `"30"` equals `30`) |
//! | `in` / `not_in` | `in` against the list (strict equality) / its negation |
//! | `starts_with` / `ends_with` | flagd's operators (strings only) |
//! | `contains` | `in` with the attribute as haystack: substring of a string, element of an array |
//! | `lt` `lte` `gt` `gte` | `<` `<=` `>` `>=` (numeric unless both sides are strings) |
//! | `semver_*` | flagd's `sem_ver` with `=` `!=` `<` `<=` `>` `>=` `~` `^` |
//!
//! A missing attribute (absent or null) fails every operator except `ne` and `not_in`,
//! which hold. (JSONLogic's `<` treats null as 0, so an export of `lt`… must guard it.)

use std::borrow::Cow;

use serde_json::Value;

use super::condition::{Condition, Op};
use super::context::{self, Context, TARGETING_KEY};
use super::js;
use super::semver::{self, SemverOp};

/// Whether `condition` holds for `actual`, the context's value of its attribute.
pub(crate) fn holds(condition: &Condition, actual: Option<&Value>) -> bool {
    let Some(actual) = actual.filter(|value| !value.is_null()) else {
        return condition.op.holds_when_missing();
    };
    let expected = &condition.value;
    match condition.op {
        Op::Eq => js::loose_eq(actual, expected),
        Op::Ne => !js::loose_eq(actual, expected),
        Op::In => js::includes(expected, actual),
        Op::NotIn => !js::includes(expected, actual),
        Op::StartsWith => both_str(actual, expected).is_some_and(|(a, e)| a.starts_with(e)),
        Op::EndsWith => both_str(actual, expected).is_some_and(|(a, e)| a.ends_with(e)),
        Op::Contains => js::includes(actual, expected),
        Op::Lt => js::lt(actual, expected),
        Op::Lte => js::lte(actual, expected),
        Op::Gt => js::gt(actual, expected),
        Op::Gte => js::gte(actual, expected),
        Op::SemverEq => semver_holds(actual, SemverOp::Eq, expected),
        Op::SemverNe => semver_holds(actual, SemverOp::Ne, expected),
        Op::SemverLt => semver_holds(actual, SemverOp::Lt, expected),
        Op::SemverLte => semver_holds(actual, SemverOp::Lte, expected),
        Op::SemverGt => semver_holds(actual, SemverOp::Gt, expected),
        Op::SemverGte => semver_holds(actual, SemverOp::Gte, expected),
        Op::SemverTilde => semver_holds(actual, SemverOp::Tilde, expected),
        Op::SemverCaret => semver_holds(actual, SemverOp::Caret, expected),
    }
}

fn both_str<'a>(actual: &'a Value, expected: &'a Value) -> Option<(&'a str, &'a str)> {
    Some((actual.as_str()?, expected.as_str()?))
}

fn semver_holds(actual: &Value, op: SemverOp, expected: &Value) -> bool {
    semver::compare(actual, op, expected).unwrap_or(false)
}

/// The value a rollout buckets on: the `bucket_by` attribute, else the targeting key.
/// Strings count as they are, other values as JavaScript's `String(value)` writes them
/// (`1.0` as `1`), which is what the exported JSONLogic's `cat` hashes; `None` when
/// missing (absent, null, or an empty targeting key).
pub(crate) fn bucketing_value<'c>(
    context: &'c Context,
    bucket_by: Option<&str>,
) -> Option<Cow<'c, str>> {
    let value = match bucket_by {
        Some(attr) => context::lookup(context, attr)?,
        None => context::member(context, TARGETING_KEY).filter(|key| key.as_str() != Some(""))?,
    };
    match value {
        Value::Null => None,
        other => Some(js::to_js_string(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn condition(attr: &str, op: Op, value: Value) -> Condition {
        Condition {
            attr: attr.to_owned(),
            op,
            value,
        }
    }

    fn check(op: Op, actual: Value, expected: Value) -> bool {
        holds(&condition("a", op, expected), Some(&actual))
    }

    #[test]
    fn missing_attribute_fails_all_but_ne_and_not_in() {
        let operand = |op: Op| match op {
            Op::In | Op::NotIn => json!(["x"]),
            Op::Lt | Op::Lte | Op::Gt | Op::Gte => json!(5),
            Op::SemverEq
            | Op::SemverNe
            | Op::SemverLt
            | Op::SemverLte
            | Op::SemverGt
            | Op::SemverGte
            | Op::SemverTilde
            | Op::SemverCaret => json!("1.0.0"),
            _ => json!("x"),
        };
        for op in Op::ALL {
            let cond = condition("a", op, operand(op));
            let expected = matches!(op, Op::Ne | Op::NotIn);
            assert_eq!(
                holds(&cond, None),
                expected,
                "{} with a missing attribute",
                op.name()
            );
            assert_eq!(
                holds(&cond, Some(&Value::Null)),
                expected,
                "{} with null",
                op.name()
            );
        }
    }

    #[test]
    fn equality_is_loose() {
        assert!(check(Op::Eq, json!("SG"), json!("SG")));
        assert!(check(Op::Eq, json!("30"), json!(30)));
        assert!(check(Op::Eq, json!(true), json!(true)));
        assert!(!check(Op::Eq, json!("sg"), json!("SG")));
        assert!(check(Op::Ne, json!("MY"), json!("SG")));
        assert!(!check(Op::Ne, json!(30), json!("30")));
    }

    #[test]
    fn membership_is_strict() {
        assert!(check(Op::In, json!("SG"), json!(["MY", "SG"])));
        assert!(!check(Op::In, json!("30"), json!([30])));
        assert!(!check(Op::In, json!("ID"), json!(["MY", "SG"])));
        assert!(check(Op::NotIn, json!("ID"), json!(["MY", "SG"])));
        assert!(!check(Op::NotIn, json!("SG"), json!(["MY", "SG"])));
    }

    #[test]
    fn string_operators_need_strings() {
        assert!(check(Op::StartsWith, json!("abcdef"), json!("abc")));
        assert!(!check(Op::StartsWith, json!(123), json!("1")));
        assert!(check(
            Op::EndsWith,
            json!("ann@example.com"),
            json!("@example.com")
        ));
        assert!(!check(
            Op::EndsWith,
            json!("ann@example.org"),
            json!("@example.com")
        ));
        assert!(check(Op::Contains, json!("ranker-v2"), json!("v2")));
        assert!(check(Op::Contains, json!(["beta", "qa"]), json!("qa")));
        assert!(!check(Op::Contains, json!(["beta"]), json!("qa")));
        assert!(!check(Op::Contains, json!(42), json!("4")));
    }

    #[test]
    fn ordering_operators_compare_numbers() {
        assert!(check(Op::Lt, json!(3), json!(5)));
        assert!(check(Op::Lt, json!("3"), json!(5)));
        assert!(!check(Op::Lt, json!("abc"), json!(5)));
        assert!(check(Op::Lte, json!(5), json!(5)));
        assert!(check(Op::Gt, json!(5.5), json!(5)));
        assert!(!check(Op::Gt, json!(5), json!(5)));
        assert!(check(Op::Gte, json!(5), json!(5)));
    }

    #[test]
    fn semver_operators_follow_flagd() {
        assert!(check(Op::SemverEq, json!("v1.0.0"), json!("1.0.0")));
        assert!(check(Op::SemverNe, json!("1.0.1"), json!("1.0.0")));
        assert!(check(Op::SemverLt, json!("1.0.0-rc.1"), json!("1.0.0")));
        assert!(check(Op::SemverLte, json!("1.0.0"), json!("1.0.0")));
        assert!(check(Op::SemverGt, json!(2), json!("1.9.0")));
        assert!(check(Op::SemverGte, json!("1.2"), json!("1.2.0")));
        assert!(check(Op::SemverTilde, json!("1.2.9"), json!("1.2.0")));
        assert!(!check(Op::SemverTilde, json!("1.3.0"), json!("1.2.0")));
        assert!(check(Op::SemverCaret, json!("1.9.0"), json!("1.2.0")));
        assert!(!check(Op::SemverCaret, json!("2.0.0"), json!("1.2.0")));
        assert!(!check(Op::SemverNe, json!("garbage"), json!("1.0.0")));
    }

    #[test]
    fn bucketing_value_prefers_bucket_by_and_renders_non_strings() {
        let ctx = json!({"targetingKey": "u1", "user_id": 42, "org": {"id": "o7"}, "gone": null});
        let ctx = ctx.as_object().unwrap();
        assert_eq!(bucketing_value(ctx, None).as_deref(), Some("u1"));
        assert_eq!(bucketing_value(ctx, Some("user_id")).as_deref(), Some("42"));
        let float = json!({"score": 1.0, "flags": [1, "a"]});
        let float = float.as_object().unwrap();
        assert_eq!(bucketing_value(float, Some("score")).as_deref(), Some("1"));
        assert_eq!(
            bucketing_value(float, Some("flags")).as_deref(),
            Some("1,a")
        );
        assert_eq!(bucketing_value(ctx, Some("org.id")).as_deref(), Some("o7"));
        assert_eq!(bucketing_value(ctx, Some("gone")), None);
        assert_eq!(bucketing_value(ctx, Some("absent")), None);
        let empty = json!({"targetingKey": ""});
        assert_eq!(bucketing_value(empty.as_object().unwrap(), None), None);
    }
}
