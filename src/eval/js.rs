//! The JavaScript value semantics that JSONLogic inherits (jsonlogic.com is defined by
//! json-logic-js): truthiness, `==` / `===`, relational comparison and the string and
//! number conversions behind them. Native conditions use the same functions, so a TOML
//! condition and the JSONLogic it exports to agree.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

/// JSONLogic truthiness: like JavaScript, except that an empty array is false.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(_) => true,
    }
}

/// A primitive after JavaScript's ToPrimitive: arrays and objects become strings.
enum Primitive<'a> {
    Null,
    Bool(bool),
    Number(f64),
    String(Cow<'a, str>),
}

fn to_primitive(value: &Value) -> Primitive<'_> {
    match value {
        Value::Null => Primitive::Null,
        Value::Bool(b) => Primitive::Bool(*b),
        Value::Number(n) => Primitive::Number(n.as_f64().unwrap_or(f64::NAN)),
        other => Primitive::String(to_js_string(other)),
    }
}

fn primitive_to_number(primitive: &Primitive<'_>) -> f64 {
    match primitive {
        Primitive::Null => 0.0,
        Primitive::Bool(b) => f64::from(u8::from(*b)),
        Primitive::Number(n) => *n,
        Primitive::String(s) => string_to_number(s),
    }
}

/// JavaScript's ToNumber.
pub(crate) fn to_number(value: &Value) -> f64 {
    primitive_to_number(&to_primitive(value))
}

/// JavaScript's `Number(string)`: surrounding white space is ignored, an empty string is 0,
/// anything that is not a whole numeric literal is NaN.
fn string_to_number(text: &str) -> f64 {
    let text = text.trim();
    if text.is_empty() {
        return 0.0;
    }
    match text {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = text.strip_prefix(prefix) {
            return u64::from_str_radix(digits, radix).map_or(f64::NAN, |n| n as f64);
        }
    }
    let decimal = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if decimal {
        text.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

/// JavaScript's `parseFloat(String(value))`, which json-logic-js uses for `+` and `*`:
/// the longest numeric prefix counts, so `"3 apples"` is 3 and `"apples"` is NaN.
pub(crate) fn parse_float(value: &Value) -> f64 {
    if let Value::Number(n) = value {
        return n.as_f64().unwrap_or(f64::NAN);
    }
    let text = to_js_string(value);
    let text = text.trim_start();
    let bytes = text.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    if text[end..].starts_with("Infinity") {
        return if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let digits_from = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let int_end = digits_from(end);
    let mut mantissa_end = int_end;
    if bytes.get(int_end) == Some(&b'.') {
        mantissa_end = digits_from(int_end + 1);
    }
    let has_digits = int_end > end || mantissa_end > int_end + 1;
    if !has_digits {
        return f64::NAN;
    }
    end = mantissa_end;
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exp = end + 1;
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        let exp_end = digits_from(exp);
        if exp_end > exp {
            end = exp_end;
        }
    }
    text[..end].parse().unwrap_or(f64::NAN)
}

/// JavaScript's `String(value)`.
pub(crate) fn to_js_string(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Null => Cow::Borrowed("null"),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Number(n) => Cow::Owned(number_text(n)),
        Value::String(s) => Cow::Borrowed(s),
        Value::Array(items) => {
            let parts: Vec<Cow<'_, str>> = items
                .iter()
                .map(|item| match item {
                    Value::Null => Cow::Borrowed(""),
                    other => to_js_string(other),
                })
                .collect();
            Cow::Owned(parts.join(","))
        }
        Value::Object(_) => Cow::Borrowed("[object Object]"),
    }
}

/// A JSON number as JavaScript prints it (`1.0` prints as `1`).
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        float_text(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// JavaScript's Number::toString for a float.
pub(crate) fn float_text(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if f == 0.0 {
        return "0".to_owned();
    }
    let magnitude = f.abs();
    if !(1e-6..1e21).contains(&magnitude) {
        // Rust prints `1e21` and `1.5e-7`; JavaScript signs positive exponents: `1e+21`.
        let text = format!("{f:e}");
        return match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => text,
        };
    }
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// A number as a JSON value, the way JavaScript would serialise it: whole numbers become
/// integers and NaN or infinities become null.
pub(crate) fn number_value(f: f64) -> Value {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if !f.is_finite() {
        Value::Null
    } else if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER {
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

/// JavaScript's `==`. Two arrays or objects are never equal, as JavaScript compares them
/// by reference.
pub(crate) fn loose_eq(a: &Value, b: &Value) -> bool {
    if matches!(a, Value::Array(_) | Value::Object(_))
        && matches!(b, Value::Array(_) | Value::Object(_))
    {
        return false;
    }
    primitive_loose_eq(&to_primitive(a), &to_primitive(b))
}

fn primitive_loose_eq(a: &Primitive<'_>, b: &Primitive<'_>) -> bool {
    match (a, b) {
        (Primitive::Null, Primitive::Null) => true,
        (Primitive::Null, _) | (_, Primitive::Null) => false,
        (Primitive::String(x), Primitive::String(y)) => x == y,
        (Primitive::Bool(x), Primitive::Bool(y)) => x == y,
        _ => primitive_to_number(a) == primitive_to_number(b),
    }
}

/// JavaScript's `===`. Arrays and objects are never strictly equal (reference semantics).
pub(crate) fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

/// JavaScript's relational comparison: two strings compare by UTF-16 code units, anything
/// else as numbers. `None` when either side is NaN, which makes every comparison false;
/// and when either is an array or object, which flagd's Go server and Java read as NaN
/// (JavaScript would read `[1]` as 1, json-logic-engine fails the evaluation).
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let composite = |v: &Value| matches!(v, Value::Array(_) | Value::Object(_));
    if composite(a) || composite(b) {
        return None;
    }
    let (a, b) = (to_primitive(a), to_primitive(b));
    if let (Primitive::String(x), Primitive::String(y)) = (&a, &b) {
        return Some(x.encode_utf16().cmp(y.encode_utf16()));
    }
    primitive_to_number(&a).partial_cmp(&primitive_to_number(&b))
}

/// JavaScript's `a < b`.
pub(crate) fn lt(a: &Value, b: &Value) -> bool {
    compare(a, b) == Some(Ordering::Less)
}

/// JavaScript's `a <= b` (false when either side is NaN, unlike `!(b < a)`).
pub(crate) fn lte(a: &Value, b: &Value) -> bool {
    matches!(compare(a, b), Some(Ordering::Less | Ordering::Equal))
}

/// JavaScript's `a > b`.
pub(crate) fn gt(a: &Value, b: &Value) -> bool {
    lt(b, a)
}

/// JavaScript's `a >= b`.
pub(crate) fn gte(a: &Value, b: &Value) -> bool {
    lte(b, a)
}

/// `haystack.indexOf(needle) !== -1`, which json-logic-js's `in` tests: a substring of a
/// string, or a strictly equal element of an array; false for anything else.
pub(crate) fn includes(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::String(text) => text.contains(&*to_js_string(needle)),
        Value::Array(items) => items.iter().any(|item| strict_eq(item, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_follows_jsonlogic() {
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
        ] {
            assert!(!truthy(&falsy), "{falsy} should be falsy");
        }
        for truthy_value in [
            json!(true),
            json!(1),
            json!(-1),
            json!("0"),
            json!([0]),
            json!({}),
        ] {
            assert!(truthy(&truthy_value), "{truthy_value} should be truthy");
        }
    }

    #[test]
    fn loose_equality_coerces_like_javascript() {
        assert!(loose_eq(&json!(1), &json!("1")));
        assert!(loose_eq(&json!(0), &json!("")));
        assert!(loose_eq(&json!(1), &json!(true)));
        assert!(loose_eq(&json!(1.0), &json!(1)));
        assert!(loose_eq(&json!(null), &json!(null)));
        assert!(loose_eq(&json!([1, 2]), &json!("1,2")));
        assert!(!loose_eq(&json!(null), &json!(0)));
        assert!(!loose_eq(&json!(null), &json!("")));
        assert!(!loose_eq(&json!("abc"), &json!(0)));
        assert!(!loose_eq(&json!([1]), &json!([1])));
    }

    #[test]
    fn strict_equality_needs_same_type() {
        assert!(strict_eq(&json!(1), &json!(1.0)));
        assert!(strict_eq(&json!("a"), &json!("a")));
        assert!(!strict_eq(&json!(1), &json!("1")));
        assert!(!strict_eq(&json!(null), &json!(false)));
    }

    #[test]
    fn comparison_is_numeric_unless_both_are_strings() {
        assert_eq!(compare(&json!("10"), &json!(9)), Some(Ordering::Greater));
        assert_eq!(compare(&json!("10"), &json!("9")), Some(Ordering::Less));
        assert_eq!(compare(&json!(null), &json!(0)), Some(Ordering::Equal));
        assert_eq!(compare(&json!("abc"), &json!(1)), None);
        assert_eq!(compare(&json!(true), &json!(1)), Some(Ordering::Equal));
    }

    #[test]
    fn numbers_convert_like_javascript() {
        assert_eq!(to_number(&json!(" 12 ")), 12.0);
        assert_eq!(to_number(&json!("")), 0.0);
        assert_eq!(to_number(&json!("0x10")), 16.0);
        assert!(to_number(&json!("12px")).is_nan());
        assert!(to_number(&json!("inf")).is_nan());
        assert!(to_number(&json!({})).is_nan());
        assert_eq!(to_number(&json!([7])), 7.0);
        assert_eq!(parse_float(&json!("3.5 apples")), 3.5);
        assert_eq!(parse_float(&json!("-2e3x")), -2000.0);
        assert_eq!(parse_float(&json!(".5")), 0.5);
        assert!(parse_float(&json!("apples")).is_nan());
        assert!(parse_float(&json!(null)).is_nan());
        assert!(parse_float(&json!(true)).is_nan());
    }

    #[test]
    fn strings_print_like_javascript() {
        assert_eq!(to_js_string(&json!(1.0)), "1");
        assert_eq!(to_js_string(&json!(1.5)), "1.5");
        assert_eq!(to_js_string(&json!(1e21)), "1e+21");
        assert_eq!(to_js_string(&json!(1.5e-7)), "1.5e-7");
        assert_eq!(to_js_string(&json!([1, null, "a", [2, 3]])), "1,,a,2,3");
        assert_eq!(to_js_string(&json!({"a": 1})), "[object Object]");
        assert_eq!(to_js_string(&json!(null)), "null");
        assert_eq!(number_value(2.0), json!(2));
        assert_eq!(number_value(f64::NAN), json!(null));
    }
}
