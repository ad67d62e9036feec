//! flagd's own JSONLogic operators. Each yields null on input it cannot use, so the flag
//! falls back to its default variant (open-feature/flagd#1874) instead of looking up a
//! variant named "false".

use std::borrow::Cow;

use serde_json::Value;

use super::Node;
use super::eval::{Data, Env, eval};
use crate::eval::bucket::{self, Fractional};
use crate::eval::context;
use crate::eval::semver::{self, SemverOp};

/// `starts_with` / `ends_with`: exactly two strings.
pub(super) fn affix<'a>(args: &[Cow<'_, Value>], test: fn(&str, &str) -> bool) -> Cow<'a, Value> {
    let result = match args {
        [text, affix] => match (&**text, &**affix) {
            (Value::String(text), Value::String(affix)) => Value::Bool(test(text, affix)),
            _ => Value::Null,
        },
        _ => Value::Null,
    };
    Cow::Owned(result)
}

/// `sem_ver`: `[version, operator, version]`.
pub(super) fn sem_ver<'a>(args: &[Cow<'_, Value>]) -> Cow<'a, Value> {
    let result = match args {
        [actual, op, target] => op
            .as_str()
            .and_then(SemverOp::from_symbol)
            .and_then(|op| semver::compare(actual, op, target)),
        _ => None,
    };
    Cow::Owned(result.map_or(Value::Null, Value::Bool))
}

/// `fractional`: `[bucketing value?, [variant, weight?]...]`, in the version the
/// environment names.
///
/// v2: when the first argument yields a string, that string is hashed. When it is left
/// out, or yields null, the flag key followed by the targeting key is hashed, and without
/// a (non-empty, string) targeting key the result is null.
///
/// v3 (as openfeature-flagd-core 2.0.0 has it): when the first argument yields anything
/// but an array, that value is hashed by its type (its canonical CBOR), and null yields
/// null. When it is left out, `[flag key, targeting key]` is hashed.
///
/// A distribution is `[variant]` (weight 1) or `[variant, weight]`, where both may be
/// expressions; the variant may be a string, boolean, number or null. Negative weights
/// count as 0; a fractional weight, a total of 0 or a total above 2^31-1 yields null.
pub(super) fn fractional<'a>(args: &'a [Node], env: &Env<'a>, data: Data<'a>) -> Cow<'a, Value> {
    pick(args, env, data).map_or(Cow::Owned(Value::Null), Cow::Owned)
}

fn pick<'a>(args: &'a [Node], env: &Env<'a>, data: Data<'a>) -> Option<Value> {
    let mut evaluated: Vec<Cow<'a, Value>> =
        args.iter().map(|node| eval(node, env, data)).collect();
    let explicit = match (env.fractional, evaluated.first().map(|first| &**first)) {
        // v2: a string or null first argument is the bucketing value.
        (Fractional::V2, Some(Value::String(_) | Value::Null)) => Some(evaluated.remove(0)),
        // v3: anything but an array (a distribution) is.
        (Fractional::V3, Some(first)) if !first.is_array() => Some(evaluated.remove(0)),
        _ => None,
    };
    let mut total = 0;
    let mut distribution = Vec::with_capacity(evaluated.len());
    for entry in &evaluated {
        let (variant, weight) = distribution_entry(entry)?;
        total += weight;
        distribution.push((variant, weight));
    }
    if total == 0 || total > crate::eval::MAX_TOTAL_WEIGHT {
        return None;
    }
    let by_targeting_key = || {
        let key = context::targeting_key(env.root)?;
        Some(env.fractional.hash_targeting_key(env.flag_key, key))
    };
    let hash = match (env.fractional, explicit.as_deref()) {
        (Fractional::V2, Some(Value::String(value))) => bucket::hash("", value),
        (Fractional::V3, Some(value)) => env.fractional.hash_value(value)?,
        _ => by_targeting_key()?,
    };
    let chosen = bucket::pick(
        bucket::bucket(hash, total),
        distribution.iter().map(|(_, weight)| *weight),
    )?;
    Some(distribution[chosen].0.clone())
}

fn distribution_entry(entry: &Value) -> Option<(&Value, u64)> {
    let Value::Array(parts) = entry else {
        return None;
    };
    let variant = parts.first()?;
    if matches!(variant, Value::Array(_) | Value::Object(_)) {
        return None;
    }
    let weight = match parts.get(1) {
        None | Some(Value::Null) => 1,
        Some(Value::Number(n)) => {
            let weight = n.as_f64()?;
            if weight.fract() != 0.0 || weight > crate::eval::MAX_TOTAL_WEIGHT as f64 {
                return None;
            }
            weight.max(0.0) as u64
        }
        Some(_) => return None,
    };
    Some((variant, weight))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::eval::bucket::Fractional;
    use crate::eval::logic::Logic;

    fn run(expression: Value, context: Value) -> Value {
        let logic = Logic::compile(&expression).unwrap();
        let context = context.as_object().cloned().unwrap_or_default();
        logic
            .evaluate(&context, "flag", 0, Fractional::V2)
            .into_owned()
    }

    #[test]
    fn starts_and_ends_with_need_two_strings() {
        let ctx = json!({"id": "abcxyz", "num": 123});
        assert_eq!(
            run(json!({"starts_with": [{"var": "id"}, "abc"]}), ctx.clone()),
            json!(true)
        );
        assert_eq!(
            run(json!({"ends_with": [{"var": "id"}, "abc"]}), ctx.clone()),
            json!(false)
        );
        assert_eq!(
            run(json!({"ends_with": [{"var": "id"}, "xyz"]}), ctx.clone()),
            json!(true)
        );
        assert_eq!(
            run(json!({"starts_with": [{"var": "num"}, "1"]}), ctx.clone()),
            json!(null)
        );
        assert_eq!(
            run(json!({"starts_with": ["abc"]}), ctx.clone()),
            json!(null)
        );
        assert_eq!(
            run(json!({"ends_with": [{"var": "gone"}, "x"]}), ctx),
            json!(null)
        );
    }

    #[test]
    fn sem_ver_yields_null_on_bad_input() {
        let ctx = json!({"v": "1.2.3"});
        assert_eq!(
            run(
                json!({"sem_ver": [{"var": "v"}, ">=", "1.2.0"]}),
                ctx.clone()
            ),
            json!(true)
        );
        assert_eq!(
            run(
                json!({"sem_ver": [{"var": "v"}, "~", "1.3.0"]}),
                ctx.clone()
            ),
            json!(false)
        );
        assert_eq!(
            run(
                json!({"sem_ver": [{"var": "v"}, "===", "1.2.3"]}),
                ctx.clone()
            ),
            json!(null)
        );
        assert_eq!(
            run(json!({"sem_ver": [{"var": "v"}, "="]}), ctx.clone()),
            json!(null)
        );
        assert_eq!(
            run(json!({"sem_ver": ["nope", "=", "1.0.0"]}), ctx),
            json!(null)
        );
    }

    #[test]
    fn fractional_hashes_flag_key_and_targeting_key_by_default() {
        // Vectors of the flagd test bed (evaluator/gherkin/fractional.feature, v2).
        let shorthand = json!({"fractional": [["heads"], ["tails", 1]]});
        let with_key = |key: &str| json!({"targetingKey": key});
        let logic = Logic::compile(&shorthand).unwrap();
        let evaluate = |key: &str| {
            let ctx = with_key(key).as_object().cloned().unwrap();
            logic
                .evaluate(&ctx, "fractional-flag-shorthand", 0, Fractional::V2)
                .into_owned()
        };
        assert_eq!(evaluate("jon@company.com"), json!("heads"));
        assert_eq!(evaluate("jane@company.com"), json!("tails"));
    }

    #[test]
    fn fractional_hashes_an_explicit_bucketing_value() {
        let shared = json!({"fractional": [
            {"cat": ["shared-seed", {"var": "user.name"}]},
            ["clubs", 25], ["diamonds", 25], ["hearts", 25], ["spades", 25]
        ]});
        for (name, expected) in [
            ("seven", "hearts"),
            ("eight", "diamonds"),
            ("nine", "clubs"),
            ("two", "spades"),
        ] {
            assert_eq!(
                run(shared.clone(), json!({"user": {"name": name}})),
                json!(expected),
                "{name}"
            );
        }
    }

    #[test]
    fn fractional_weights() {
        let ctx = json!({"targetingKey": "any-user"});
        assert_eq!(
            run(json!({"fractional": [["one", 0], ["two", 0]]}), ctx.clone()),
            json!(null)
        );
        assert_eq!(
            run(
                json!({"fractional": [["one", -50], ["two", 100]]}),
                ctx.clone()
            ),
            json!("two")
        );
        assert_eq!(
            run(
                json!({"fractional": [["one", 1.5], ["two", 1]]}),
                ctx.clone()
            ),
            json!(null)
        );
        assert_eq!(
            run(json!({"fractional": [["one", "9"]]}), ctx.clone()),
            json!(null)
        );
        assert_eq!(
            run(json!({"fractional": [["single", 1]]}), ctx.clone()),
            json!("single")
        );
        assert_eq!(
            run(
                json!({"fractional": [[false, 0], [true, 100]]}),
                ctx.clone()
            ),
            json!(true)
        );
        assert_eq!(
            run(
                json!({"fractional": [["a", 2_147_483_647], ["b", 1]]}),
                ctx.clone()
            ),
            json!(null)
        );
        assert_eq!(
            run(json!({"fractional": [[{"a": 1, "b": 2}, 1]]}), ctx),
            json!(null)
        );
    }

    #[test]
    fn fractional_without_a_bucketing_value_yields_null() {
        let buckets = json!({"fractional": [{"var": "missing"}, ["one", 50], ["two", 50]]});
        assert_eq!(run(buckets.clone(), json!({})), json!(null));
        assert_eq!(
            run(buckets.clone(), json!({"targetingKey": ""})),
            json!(null)
        );
        // A null bucketing value falls back to the targeting key, as flagd does.
        assert_ne!(run(buckets, json!({"targetingKey": "u1"})), json!(null));
        assert_eq!(
            run(
                json!({"fractional": [7, ["one", 1]]}),
                json!({"targetingKey": "u1"})
            ),
            json!(null)
        );
    }

    #[test]
    fn fractional_v3_hashes_typed_values_and_rejects_null() {
        let basic = json!({"fractional": [{"var": "hashing_input"},
            ["b1", 1], ["b2", 1], ["b3", 1], ["b4", 1], ["b5", 1]]});
        let logic = Logic::compile(&basic).unwrap();
        let run_v3 = |input: Value| {
            let ctx = json!({"hashing_input": input, "targetingKey": "t"});
            let ctx = ctx.as_object().cloned().unwrap();
            logic.evaluate(&ctx, "f", 0, Fractional::V3).into_owned()
        };
        // 5 equal buckets: the v3 hash of the value itself, typed.
        for input in [
            json!(true),
            json!(123),
            json!("123"),
            json!({"a": 1}),
            json!(1.5),
        ] {
            let hash = Fractional::V3.hash_value(&input).unwrap();
            let expected = format!("b{}", crate::eval::bucket::bucket(hash, 5) + 1);
            assert_eq!(run_v3(input.clone()), json!(expected), "{input}");
        }
        assert_eq!(run_v3(Value::Null), json!(null));
        let shorthand = Logic::compile(&json!({"fractional": [["heads"], ["tails", 1]]})).unwrap();
        let side = |key: Value| {
            let ctx = json!({"targetingKey": key}).as_object().cloned().unwrap();
            shorthand
                .evaluate(&ctx, "fractional-flag-shorthand", 0, Fractional::V3)
                .into_owned()
        };
        assert_eq!(side(json!("user-1")), json!("heads"));
        assert_eq!(side(json!("user-2")), json!("tails"));
        assert_eq!(side(json!(12345)), json!(null));
        assert_eq!(side(json!("")), json!(null));
    }
}
