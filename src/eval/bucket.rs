//! flagd's `fractional` bucketing, in both versions flagd has used.
//!
//! - **v2**: MurmurHash3 x86_32 with seed 0 over the UTF-8 of a prefix (flag key or layer
//!   name) followed by the bucketing value.
//! - **v3**: MurmurHash3 x86_32 with seed 0 over the canonical CBOR (RFC 8949 core
//!   deterministic encoding) of the bucketing value, numbers normalised first, so that a
//!   value buckets by its type; the targeting key alone buckets as `[flagKey, targetingKey]`.
//!
//! Either way a hash maps onto `[0, total_weight)` by `(hash * total_weight) >> 32`.

use serde::Serialize;
use serde_json::{Map, Value};

/// The largest total weight of a `fractional` split that flagd accepts (a signed 32-bit
/// sum): flag files, the evaluator and the export all hold to it.
pub const MAX_TOTAL_WEIGHT: u64 = i32::MAX as u64;

/// Inputs up to this length are joined on the stack.
const STACK_INPUT: usize = 256;

/// The bucketing of flagd's `fractional` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fractional {
    /// MurmurHash3 of the UTF-8 text (flagd since open-feature/flagd#1909).
    #[default]
    V2,
    /// MurmurHash3 of canonical CBOR (the flagd ADR "Harden Hashing Consistency").
    V3,
}

impl Fractional {
    pub const ALL: [Fractional; 2] = [Fractional::V2, Fractional::V3];

    pub fn name(self) -> &'static str {
        match self {
            Fractional::V2 => "v2",
            Fractional::V3 => "v3",
        }
    }

    pub fn from_name(name: &str) -> Option<Fractional> {
        Fractional::ALL
            .into_iter()
            .find(|version| version.name() == name)
    }

    /// The hash of a prefix (flag key or layer name) joined to a string value: what
    /// `fractional` hashes for `{"cat": [prefix, value]}`.
    pub(crate) fn hash_joined(self, prefix: &str, value: &str) -> u32 {
        match self {
            Fractional::V2 => hash(prefix, value),
            Fractional::V3 => {
                let mut bytes = Vec::with_capacity(prefix.len() + value.len() + 9);
                cbor_header(&mut bytes, MAJOR_TEXT, (prefix.len() + value.len()) as u64);
                bytes.extend_from_slice(prefix.as_bytes());
                bytes.extend_from_slice(value.as_bytes());
                murmur3_x86_32(&bytes)
            }
        }
    }

    /// The hash of `fractional` without a bucketing value: the flag key and the
    /// targeting key.
    pub(crate) fn hash_targeting_key(self, flag_key: &str, targeting_key: &str) -> u32 {
        match self {
            Fractional::V2 => hash(flag_key, targeting_key),
            Fractional::V3 => {
                let mut bytes = Vec::with_capacity(flag_key.len() + targeting_key.len() + 19);
                cbor_header(&mut bytes, MAJOR_ARRAY, 2);
                cbor_text(&mut bytes, flag_key);
                cbor_text(&mut bytes, targeting_key);
                murmur3_x86_32(&bytes)
            }
        }
    }

    /// The hash of an explicit bucketing value of `fractional`. v2 hashes a string only
    /// (`None` for any other value); v3 hashes any value but null, by its type.
    pub(crate) fn hash_value(self, value: &Value) -> Option<u32> {
        match (self, value) {
            (_, Value::Null) => None,
            (Fractional::V2, Value::String(text)) => Some(hash("", text)),
            (Fractional::V2, _) => None,
            (Fractional::V3, value) => {
                let mut bytes = Vec::new();
                cbor(&mut bytes, value);
                Some(murmur3_x86_32(&bytes))
            }
        }
    }
}

/// MurmurHash3 x86_32, seed 0, of `prefix` followed by `value`.
///
/// Hashed here rather than with the murmur3 crate: its `Read`-based interface costs about
/// 90 ns for a typical 45-byte key, most of an evaluation's budget; this takes about 10.
/// The tests check it against the crate.
pub(crate) fn hash(prefix: &str, value: &str) -> u32 {
    let (prefix, value) = (prefix.as_bytes(), value.as_bytes());
    let len = prefix.len() + value.len();
    if len <= STACK_INPUT {
        let mut joined = [0u8; STACK_INPUT];
        joined[..prefix.len()].copy_from_slice(prefix);
        joined[prefix.len()..len].copy_from_slice(value);
        murmur3_x86_32(&joined[..len])
    } else {
        murmur3_x86_32(&[prefix, value].concat())
    }
}

fn murmur3_x86_32(data: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let scramble = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mut h: u32 = 0;
    let mut blocks = data.chunks_exact(4);
    for block in blocks.by_ref() {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        h = (h ^ scramble(k))
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let k = tail
            .iter()
            .rev()
            .fold(0u32, |k, &byte| (k << 8) | u32::from(byte));
        h ^= scramble(k);
    }
    // The length is mixed in modulo 2^32, as the reference implementation does.
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The bucket of a hash among `total_weight` equal slots.
pub(crate) fn bucket(hash: u32, total_weight: u64) -> u64 {
    (u64::from(hash) * total_weight) >> 32
}

/// The index of the entry whose cumulative weight first exceeds `bucket`.
pub(crate) fn pick(bucket: u64, weights: impl IntoIterator<Item = u64>) -> Option<usize> {
    let mut cumulative = 0;
    weights.into_iter().position(|weight| {
        cumulative += weight;
        bucket < cumulative
    })
}

const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_NEGATIVE: u8 = 1;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_SIMPLE: u8 = 7;

/// A CBOR head: the major type and its argument in the fewest bytes.
fn cbor_header(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    match argument {
        0..=23 => out.push(major | argument as u8),
        24..=0xff => out.extend([major | 24, argument as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((argument as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((argument as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(argument.to_be_bytes());
        }
    }
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_header(out, MAJOR_TEXT, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// The canonical CBOR of a JSON value, as flagd's v3 `fractional` encodes it: a number
/// without a fractional part, within [-2^63, 2^64), is an integer (so `1.0` is `1` and
/// `-0.0` is `0`); other numbers are floats in the shortest of half, single and double
/// precision that holds them exactly; map keys are sorted by their encoding.
fn cbor(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Number(number) => {
            if let Some(n) = number.as_u64() {
                cbor_header(out, MAJOR_UNSIGNED, n);
            } else if let Some(n) = number.as_i64() {
                cbor_integer(out, i128::from(n));
            } else {
                cbor_float(out, number.as_f64().unwrap_or(f64::NAN));
            }
        }
        Value::String(text) => cbor_text(out, text),
        Value::Array(items) => {
            cbor_header(out, MAJOR_ARRAY, items.len() as u64);
            for item in items {
                cbor(out, item);
            }
        }
        Value::Object(members) => cbor_map(out, members),
    }
}

fn cbor_integer(out: &mut Vec<u8>, n: i128) {
    if n >= 0 {
        cbor_header(out, MAJOR_UNSIGNED, n as u64);
    } else {
        cbor_header(out, MAJOR_NEGATIVE, (-1 - n) as u64);
    }
}

fn cbor_float(out: &mut Vec<u8>, f: f64) {
    // 2^64 and -2^63 as floats: integral values in between are integers.
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    const MINUS_TWO_63: f64 = -9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && (MINUS_TWO_63..TWO_64).contains(&f) {
        return cbor_integer(out, f as i128);
    }
    if let Some(half) = half_bits(f) {
        out.push(MAJOR_SIMPLE << 5 | 25);
        out.extend(half.to_be_bytes());
    } else if f64::from(f as f32) == f || f.is_nan() {
        out.push(MAJOR_SIMPLE << 5 | 26);
        out.extend((f as f32).to_bits().to_be_bytes());
    } else {
        out.push(MAJOR_SIMPLE << 5 | 27);
        out.extend(f.to_bits().to_be_bytes());
    }
}

/// The IEEE 754 half-precision bits of `f`, when it holds `f` exactly.
fn half_bits(f: f64) -> Option<u16> {
    let sign = if f.is_sign_negative() { 0x8000 } else { 0 };
    let magnitude = f.abs();
    if magnitude.is_infinite() {
        return Some(sign | 0x7c00);
    }
    if magnitude == 0.0 {
        return Some(sign);
    }
    let bits = magnitude.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mantissa = bits & ((1 << 52) - 1);
    if (-14..=15).contains(&exponent) {
        // A normal half: 10 bits of mantissa, the other 42 must be zero.
        (mantissa & ((1 << 42) - 1) == 0)
            .then(|| sign | (((exponent + 15) as u16) << 10) | (mantissa >> 42) as u16)
    } else if (-24..-14).contains(&exponent) {
        // A subnormal half: a whole multiple of 2^-24 below 2^-14.
        let units = magnitude * f64::from(1u32 << 24);
        (units.fract() == 0.0 && units < 1024.0).then_some(sign | units as u16)
    } else {
        None
    }
}

/// A map with its members ordered by the bytes of their encoded keys (RFC 8949 §4.2.1).
fn cbor_map(out: &mut Vec<u8>, members: &Map<String, Value>) {
    let mut encoded: Vec<(Vec<u8>, &Value)> = members
        .iter()
        .map(|(key, value)| {
            let mut key_bytes = Vec::with_capacity(key.len() + 9);
            cbor_text(&mut key_bytes, key);
            (key_bytes, value)
        })
        .collect();
    encoded.sort_by(|a, b| a.0.cmp(&b.0));
    cbor_header(out, MAJOR_MAP, encoded.len() as u64);
    for (key, value) in encoded {
        out.extend(key);
        cbor(out, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn murmur3_matches_reference_vectors() {
        // Reference values of MurmurHash3_x86_32 with seed 0.
        assert_eq!(hash("", ""), 0);
        assert_eq!(hash("hello", ""), 0x248b_fa47);
        assert_eq!(hash("hello", " world"), 0x5e92_8f0f);
        assert_eq!(hash("", "hello world"), 0x5e92_8f0f);
        assert_eq!(
            hash("The quick brown fox ", "jumps over the lazy dog"),
            0x2e4f_f723
        );
    }

    #[test]
    fn murmur3_agrees_with_the_murmur3_crate() {
        // Lengths 0..=300 cover every tail length and both the stack and heap paths.
        let text: String = (0..300u32)
            .map(|i| char::from_u32(0x20 + (i * 7919) % 0x250).unwrap_or('x'))
            .collect();
        for end in 0..=text.len() {
            let Some(input) = text.get(..end) else {
                continue;
            };
            let split = input
                .char_indices()
                .nth(input.chars().count() / 3)
                .map_or(0, |(i, _)| i);
            let (prefix, value) = input.split_at(split);
            let reference = murmur3::murmur3_32(&mut input.as_bytes(), 0).unwrap();
            assert_eq!(hash(prefix, value), reference, "input of {end} bytes");
        }
    }

    #[test]
    fn buckets_span_the_total_weight() {
        assert_eq!(bucket(0, 100), 0);
        assert_eq!(bucket(u32::MAX, 100), 99);
        assert_eq!(bucket(1 << 31, 100), 50);
        assert_eq!(bucket(u32::MAX, 1), 0);
    }

    #[test]
    fn pick_takes_the_first_entry_past_the_bucket() {
        assert_eq!(pick(0, [25, 25, 50]), Some(0));
        assert_eq!(pick(24, [25, 25, 50]), Some(0));
        assert_eq!(pick(25, [25, 25, 50]), Some(1));
        assert_eq!(pick(99, [25, 25, 50]), Some(2));
        assert_eq!(pick(0, [0, 10]), Some(1));
        assert_eq!(pick(100, [25, 25, 50]), None);
    }

    /// The bucket (1..=25) that flagd's v3 test bed expects for a hashing input, under
    /// `{"fractional": [{"var": "hashing_input"}, ["bucket1", 1], …, ["bucket25", 1]]}`.
    fn v3_bucket(input: Value) -> u64 {
        let hash = Fractional::V3.hash_value(&input).expect("not null");
        bucket(hash, 25) + 1
    }

    #[test]
    fn v3_buckets_match_the_test_bed() {
        // open-feature/flagd-testbed, gherkin/targeting.feature, @fractional-v3 (also what
        // openfeature-flagd-core 2.0.0 computes).
        let cases = [
            (json!(true), 5),
            (json!(false), 1),
            (json!("user1"), 22),
            (json!("user2"), 16),
            (json!(123), 20),
            (json!(456), 12),
            (json!(1.23), 14),
            (json!(4.56), 18),
            (json!("123"), 22),
            (json!("true"), 24),
            (json!("false"), 1),
            (json!("null"), 8),
            (json!("1.23"), 4),
            (json!(0), 8),
            (json!(1.0), 23),
            (json!(1), 23),
            (json!(1.000_000_000_000_000_1), 23),
            (json!(-2.0), 12),
            (json!(-2), 12),
            (json!(9_007_199_254_740_992.0), 10),
            (json!(9_007_199_254_740_992_u64), 10),
            (json!(0.0), 8),
            (json!(-0.0), 8),
            (json!(2_147_483_647), 10),
            (json!(2_147_483_648_u64), 25),
            (json!(-2_147_483_648_i64), 8),
            (json!(-2_147_483_649_i64), 18),
            (json!(9_007_199_254_740_991_u64), 2),
            (json!(23), 21),
            (json!(24), 11),
            (json!(255), 13),
            (json!(256), 13),
            (json!(65535), 4),
            (json!(65536), 11),
            (json!(4_294_967_295_u64), 14),
            (json!(4_294_967_296_u64), 19),
            (json!(-24), 4),
            (json!(-25), 16),
            (json!(1e20), 19),
            (json!(-1e20), 25),
            (json!(65504.0), 16),
            (json!(-65504.0), 9),
            (json!(0.000_061_035_156_25), 22),
            // 2^-24, the least half subnormal, and the least double subnormal.
            (json!(2f64.powi(-24)), 23),
            (json!(65505.0), 17),
            (json!(-65505.0), 17),
            (json!(3.402_823_466_385_288_6e38), 10),
            (json!(-3.402_823_466_385_288_6e38), 3),
            (json!(1.175_494_350_822_287_5e-38), 24),
            (json!(3.5e38), 1),
            (json!(-3.5e38), 6),
            (json!(1.797_693_134_862_315_7e308), 17),
            (json!(-1.797_693_134_862_315_7e308), 9),
            (json!(2.225_073_858_507_201_4e-308), 11),
            (json!(f64::from_bits(1)), 2),
            (json!({"a": 1, "b": 2}), 23),
            (json!({"b": 2, "a": 1}), 23),
            (json!({"a": 1, "b": 2, "c": 3}), 18),
            (json!({"z": 1, "aa": 2}), 21),
            (json!({"a": {"b": 1}, "b": 2}), 9),
            (json!({"a": true, "bbb": 1, "c": "text", "dddd": 2.5}), 25),
            (json!({"aaa": 1, "ÿ": 2}), 12),
            (json!({"": 2, "abc": 1}), 25),
            (json!({"key": -0.0}), 10),
            (json!({"key": 0}), 10),
            (json!({"b": -0.0, "a": {"b": 1}, "c": 0.0}), 8),
            (json!({"café": "façade", "b": {"résumé": {"ÿ": true}}}), 22),
            (json!({}), 3),
            (json!({"a": {}}), 20),
            (json!({"a": {}, "b": []}), 7),
            (json!({"c": 0.0, "a": []}), 18),
            (json!({"a": [1, [], 3], "b": null}), 3),
            (json!({"a": ["a", "b", {}], "b": [1, null, 2]}), 23),
            (json!({"a": [1, "two", true, [], null]}), 23),
            (json!({"x": [{"a": 1}, {"b": 2}, {"b": null}]}), 3),
            (json!({"a": [[[[[]]]]]}), 15),
            (json!({"a": {"b": {"c": {"d": null}}}}), 19),
            (json!(""), 4),
            (json!("a"), 6),
            (json!("12345678901234567890123"), 4),
            (json!("123456789012345678901234"), 14),
            (json!("a".repeat(255)), 18),
            (json!("a".repeat(256)), 7),
            (json!("あいうえおかき"), 17),
            (json!("あいうえおかきく"), 16),
            (json!("ééééééééééé"), 16),
            (json!("éééééééééééé"), 19),
            (json!("café façade résumé café"), 9),
            // The test bed's table cells hold these escapes as text.
            (json!("A\\u0000B"), 15),
            (json!("e\\u0301"), 7),
            (json!("\\uD83D\\uDE00"), 23),
        ];
        for (input, expected) in cases {
            assert_eq!(v3_bucket(input.clone()), expected, "{input}");
        }
        assert_eq!(Fractional::V3.hash_value(&Value::Null), None);
    }

    #[test]
    fn v3_shorthand_hashes_flag_key_and_targeting_key_as_an_array() {
        // The test bed's "Fractional operator using implicit targeting key" (v3): 50/50
        // heads and tails on `fractional-flag-shorthand`.
        let side = |key: &str| {
            let hash = Fractional::V3.hash_targeting_key("fractional-flag-shorthand", key);
            ["heads", "tails"][bucket(hash, 2) as usize]
        };
        assert_eq!(side("user-1"), "heads");
        assert_eq!(side("user-2"), "tails");
        assert_eq!(side("user-3"), "heads");
        assert_eq!(side("jon@company.com"), "tails");
        assert_eq!(side("jane@company.com"), "tails");
        let array = json!(["fractional-flag-shorthand", "user-1"]);
        assert_eq!(
            Fractional::V3.hash_value(&array),
            Some(Fractional::V3.hash_targeting_key("fractional-flag-shorthand", "user-1"))
        );
    }

    #[test]
    fn joined_values_hash_as_one_text() {
        assert_eq!(Fractional::V2.hash_joined("flag", "u1"), hash("flag", "u1"));
        assert_eq!(
            Fractional::V3.hash_joined("flag", "u1"),
            Fractional::V3.hash_value(&json!("flagu1")).unwrap()
        );
        // The shared-seed vectors of the test bed: `cat("shared-seed", name)`, 4 × 25.
        let suit = |name: &str| {
            let hash = Fractional::V3.hash_joined("shared-seed", name);
            ["clubs", "diamonds", "hearts", "spades"][bucket(hash, 100) as usize / 25]
        };
        assert_eq!(
            ["seven", "eight", "nine", "two"].map(suit),
            ["hearts", "hearts", "diamonds", "diamonds"]
        );
        assert_eq!(Fractional::V2.hash_value(&json!(5)), None);
        assert_eq!(Fractional::from_name("v3"), Some(Fractional::V3));
        assert_eq!(Fractional::from_name("v1"), None);
    }
}
