//! Native (TOML) targeting: conditions, layers and rollouts.
//!
//! Each operator holds exactly when the JSONLogic it exports to holds in every flagd
//! engine (Go, JS, Python, Java), so offline and served results agree. The engines agree
//! only on a portable subset of JSONLogic (see the README's "Portable targeting"), so the
//! operators are defined by type, without JavaScript's conversions:
//!
//! | op | holds when the attribute is | JSONLogic |
//! |---|---|---|
//! | `eq` / `ne` | / is not: of the operand's type and equal to it (`"30"` is not `30`) | `===`, guarded against Python's `true === 1` |
//! | `in` / `not_in` | / is not: equal, as `eq`, to one of the list | `or` of `eq`s |
//! | `starts_with` / `ends_with` | a string with that prefix / suffix | flagd's operators `=== true` |
//! | `contains` | a string holding the operand, or an array with an element equal to it | `in` (the array through `merge`) |
//! | `lt` `lte` `gt` `gte` | a number (a boolean counts as 0 or 1), compared | `<` … behind guards against null and strings |
//! | `semver_*` | a string that is a version, compared | flagd's `sem_ver … === true` |
//!
//! A missing attribute (absent or null) fails every operator except `ne` and `not_in`,
//! which hold.

use serde_json::Value;

use super::condition::{Condition, Op};
use super::context::{self, Context};
use super::js;
use super::semver::{self, SemverOp};

/// Whether `condition` holds for `actual`, the context's value of its attribute.
pub(crate) fn holds(condition: &Condition, actual: Option<&Value>) -> bool {
    let Some(actual) = actual.filter(|value| !value.is_null()) else {
        return condition.op.holds_when_missing();
    };
    let expected = &condition.value;
    match condition.op {
        Op::Eq => js::strict_eq(actual, expected),
        Op::Ne => !js::strict_eq(actual, expected),
        Op::In => js::includes(expected, actual),
        Op::NotIn => !js::includes(expected, actual),
        Op::StartsWith => both_str(actual, expected).is_some_and(|(a, e)| a.starts_with(e)),
        Op::EndsWith => both_str(actual, expected).is_some_and(|(a, e)| a.ends_with(e)),
        Op::Contains => js::includes(actual, expected),
        Op::Lt => orderable(actual) && js::lt(actual, expected),
        Op::Lte => orderable(actual) && js::lte(actual, expected),
        Op::Gt => orderable(actual) && js::gt(actual, expected),
        Op::Gte => orderable(actual) && js::gte(actual, expected),
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

/// What the ordering operators compare: numbers, and booleans as 0 and 1 (as Go, JS and
/// Python read them). Strings, arrays and objects never match: each engine converts them
/// to numbers differently, or fails the evaluation.
fn orderable(actual: &Value) -> bool {
    matches!(actual, Value::Number(_) | Value::Bool(_))
}

/// A version is a string: engines write numbers as text differently.
fn semver_holds(actual: &Value, op: SemverOp, expected: &Value) -> bool {
    actual.is_string() && semver::compare(actual, op, expected).unwrap_or(false)
}

/// The value a rollout buckets on by `bucket_by`: the attribute, when it is a string. The
/// engines write other values as text differently (and some fail on them), so another
/// type of value counts as missing.
pub(crate) fn bucketing_value<'c>(context: &'c Context, bucket_by: &str) -> Option<&'c str> {
    context::lookup(context, bucket_by)?.as_str()
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
    fn equality_is_by_type() {
        assert!(check(Op::Eq, json!("SG"), json!("SG")));
        assert!(!check(Op::Eq, json!("30"), json!(30)));
        assert!(check(Op::Eq, json!(30.0), json!(30)));
        assert!(check(Op::Eq, json!(true), json!(true)));
        assert!(!check(Op::Eq, json!(1), json!(true)));
        assert!(!check(Op::Eq, json!(false), json!(0)));
        assert!(!check(Op::Eq, json!(["SG"]), json!("SG")));
        assert!(!check(Op::Eq, json!("sg"), json!("SG")));
        assert!(check(Op::Ne, json!("MY"), json!("SG")));
        assert!(check(Op::Ne, json!(30), json!("30")));
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
        assert!(check(Op::Lt, json!(0), json!(0.2)));
        assert!(check(Op::Lt, json!(false), json!(0.2)));
        assert!(!check(Op::Lt, json!(true), json!(0.2)));
        for never in [
            json!("3"),
            json!(""),
            json!("abc"),
            json!([3]),
            json!({"a": 1}),
        ] {
            assert!(!check(Op::Lt, never.clone(), json!(5)), "{never}");
            assert!(!check(Op::Gte, never.clone(), json!(-5)), "{never}");
        }
        assert!(check(Op::Lte, json!(5), json!(5)));
        assert!(check(Op::Gt, json!(5.5), json!(5)));
        assert!(!check(Op::Gt, json!(5), json!(5)));
        assert!(check(Op::Gte, json!(5), json!(5)));
        assert!(check(Op::Gt, json!(1e300), json!(5)));
    }

    #[test]
    fn semver_operators_follow_flagd() {
        assert!(check(Op::SemverEq, json!("v1.0.0"), json!("1.0.0")));
        assert!(check(Op::SemverNe, json!("1.0.1"), json!("1.0.0")));
        assert!(check(Op::SemverLt, json!("1.0.0-rc.1"), json!("1.0.0")));
        assert!(check(Op::SemverLte, json!("1.0.0"), json!("1.0.0")));
        assert!(check(Op::SemverGt, json!("2"), json!("1.9.0")));
        assert!(!check(Op::SemverGt, json!(2), json!("1.9.0")));
        assert!(check(Op::SemverGte, json!("1.2"), json!("1.2.0")));
        assert!(check(Op::SemverTilde, json!("1.2.9"), json!("1.2.0")));
        assert!(!check(Op::SemverTilde, json!("1.3.0"), json!("1.2.0")));
        assert!(check(Op::SemverCaret, json!("1.9.0"), json!("1.2.0")));
        assert!(!check(Op::SemverCaret, json!("2.0.0"), json!("1.2.0")));
        assert!(!check(Op::SemverNe, json!("garbage"), json!("1.0.0")));
    }

    #[test]
    fn bucketing_values_are_strings() {
        let ctx =
            json!({"user_id": 42, "name": "u42", "org": {"id": "o7"}, "gone": null, "empty": ""});
        let ctx = ctx.as_object().unwrap();
        assert_eq!(bucketing_value(ctx, "name"), Some("u42"));
        assert_eq!(bucketing_value(ctx, "org.id"), Some("o7"));
        assert_eq!(bucketing_value(ctx, "empty"), Some(""));
        assert_eq!(bucketing_value(ctx, "user_id"), None);
        assert_eq!(bucketing_value(ctx, "org"), None);
        assert_eq!(bucketing_value(ctx, "gone"), None);
        assert_eq!(bucketing_value(ctx, "absent"), None);
    }
}
