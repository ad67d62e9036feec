//! Reading contexts of a JSON Lines file only as far as the flags need them.
//!
//! A compiled flag knows which attributes it can read: its conditions', its rollouts'
//! `bucket_by`, the targeting key for a layer or a rollout, and the same of its
//! prerequisites. A context line is parsed in full (so a bad line fails exactly as it does
//! for [`parse_context`](super::parse_context), with the same message and position), but
//! only the members the flags read become values; the others are checked and skipped
//! without allocating.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::context::{Context, TARGETING_KEY};
use super::flag::{Action, Targeting};
use super::set::FlagSet;

/// The members of a context that evaluating some flags reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// Any member: JSONLogic targeting (a flagd file) can compute the name it reads.
    All,
    /// Only these top-level members (the first part of each attribute path), sorted.
    Members(Vec<String>),
}

impl Reads {
    /// What evaluating `keys` (and the prerequisites below them) in `set` reads.
    pub fn of<'k>(set: &FlagSet, keys: impl IntoIterator<Item = &'k str>) -> Reads {
        let mut members: Vec<String> = Vec::new();
        let mut pending: Vec<&str> = keys.into_iter().collect();
        let mut visited: Vec<&str> = Vec::new();
        let mut read = |path: &str| {
            let member = path.split('.').next().unwrap_or(path);
            if !members.iter().any(|m| m == member) {
                members.push(member.to_owned());
            }
        };
        while let Some(key) = pending.pop() {
            if visited.contains(&key) {
                continue;
            }
            visited.push(key);
            let Some(flag) = set.get(key) else { continue };
            let native = match &flag.targeting {
                Targeting::Native(native) => native,
                Targeting::Logic(_) => return Reads::All,
                Targeting::None | Targeting::Invalid(_) => continue,
            };
            if native.layer.is_some() {
                read(TARGETING_KEY);
            }
            for rule in &native.rules {
                for condition in &rule.conditions {
                    read(&condition.attr);
                }
                if let Action::Rollout(rollout) = &rule.action {
                    read(rollout.bucket_by.as_deref().unwrap_or(TARGETING_KEY));
                }
            }
            pending.extend(native.prerequisites.iter().map(|p| p.flag.as_str()));
        }
        members.sort_unstable();
        Reads::Members(members)
    }
}

/// Reads the lines of a JSON Lines file of contexts, one after the other, into one
/// context map that it keeps (one reader per thread). Each line is parsed in full and
/// fails exactly when [`parse_context`](super::parse_context) fails on it, with the same
/// message; of its members, only those the flags read are kept.
///
/// When the flags read named members only (native flags), the map holds one entry per
/// member for good, and each line overwrites the values in place, reusing their
/// allocations; a member the line lacks is null there, which a native flag reads as
/// missing (a condition, a bucketing value and the targeting key all treat null as
/// absent). [`ContextReader::present`] tells the members the line did have.
pub struct ContextReader<'r> {
    reads: &'r Reads,
    context: Context,
    /// With named members: which of them the current line has, in the order of `reads`.
    present: Vec<bool>,
}

impl<'r> ContextReader<'r> {
    pub fn new(reads: &'r Reads) -> ContextReader<'r> {
        let (context, present) = match reads {
            Reads::All => (Context::new(), Vec::new()),
            Reads::Members(members) => (
                members.iter().map(|m| (m.clone(), Value::Null)).collect(),
                vec![false; members.len()],
            ),
        };
        ContextReader {
            reads,
            context,
            present,
        }
    }

    /// Reads `line`; the context it makes is valid until the next line is read.
    pub fn read(&mut self, line: &str) -> Result<&Context, String> {
        match self.reads {
            Reads::All => self.context.clear(),
            Reads::Members(_) => self.present.fill(false),
        }
        let mut deserializer = serde_json::Deserializer::from_str(line);
        let fill = Fill {
            reads: self.reads,
            context: &mut self.context,
            present: &mut self.present,
        };
        let object = fill
            .deserialize(&mut deserializer)
            .and_then(|object| deserializer.end().map(|()| object))
            .map_err(|e| format!("not JSON ({e})"))?;
        if !object {
            return Err("the context must be a JSON object".to_owned());
        }
        for (value, present) in self.context.values_mut().zip(&self.present) {
            if !present {
                *value = Value::Null;
            }
        }
        Ok(&self.context)
    }

    /// The members the last line read has (of those the flags read).
    pub fn present(&self) -> impl Iterator<Item = (&String, &Value)> {
        let all = matches!(self.reads, Reads::All);
        self.context
            .iter()
            .enumerate()
            .filter(move |(index, _)| all || self.present[*index])
            .map(|(_, member)| member)
    }
}

/// The top-level value of a line: an object's wanted members go into the context; the
/// value says whether it was an object at all.
struct Fill<'a> {
    reads: &'a Reads,
    context: &'a mut Context,
    present: &'a mut [bool],
}

impl<'de> DeserializeSeed<'de> for Fill<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Fill<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while let Some(Name(name)) = map.next_key()? {
            // A repeated member replaces the earlier value where it stood, as a map does.
            match self.reads {
                Reads::All => {
                    let value: Value = map.next_value()?;
                    self.context.insert(name.into_owned(), value);
                }
                Reads::Members(members) => match members.iter().position(|m| *m == name) {
                    Some(index) => {
                        let slot = self.context.values_mut().nth(index);
                        let slot = slot.expect("one entry per member");
                        map.next_value_seed(Overwrite(slot))?;
                        self.present[index] = true;
                    }
                    None => {
                        map.next_value::<Skip>()?;
                    }
                },
            }
        }
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        SkipVisitor.visit_seq(seq).map(|_| false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// A member's value read into the value it replaces: a string reuses the allocation of
/// the string before it. The value is the one a [`Value`] deserializes to.
struct Overwrite<'a>(&'a mut Value);

impl<'de> DeserializeSeed<'de> for Overwrite<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Overwrite<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        match self.0 {
            Value::String(string) => {
                string.clear();
                string.push_str(text);
            }
            other => *other = Value::String(text.to_owned()),
        }
        Ok(())
    }

    fn visit_bool<E>(self, value: bool) -> Result<(), E> {
        *self.0 = Value::Bool(value);
        Ok(())
    }

    fn visit_i64<E>(self, value: i64) -> Result<(), E> {
        *self.0 = Value::from(value);
        Ok(())
    }

    fn visit_u64<E>(self, value: u64) -> Result<(), E> {
        *self.0 = Value::from(value);
        Ok(())
    }

    fn visit_f64<E>(self, value: f64) -> Result<(), E> {
        *self.0 = Value::from(value);
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        *self.0 = Value::Null;
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        *self.0 = de::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        *self.0 = de::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(())
    }
}

/// A member's name, borrowed from the line unless it has escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(name)))
    }

    fn visit_str<E>(self, name: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(name.to_owned())))
    }
}

/// A value read in full, as strictly as a [`Value`] is (string escapes, the range of
/// numbers, nesting depth), and thrown away. serde's `IgnoredAny` would not do: it lets
/// through what a full parse refuses, such as a lone surrogate escape or `1e400`.
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Skip, D::Error> {
        deserializer.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Condition, Op};
    use crate::eval::{Flag, Native, Prerequisite, Rollout, Rule, State, parse_context};
    use serde_json::json;

    /// The members a reader keeps of `line`, after it read an earlier line that had
    /// every member (so nothing of that line may show).
    fn lazily(line: &str, members: &[&str]) -> Result<Context, String> {
        let reads = Reads::Members(members.iter().map(|m| m.to_string()).collect());
        let mut reader = ContextReader::new(&reads);
        let earlier: Context = members
            .iter()
            .map(|m| (m.to_string(), json!("x")))
            .collect();
        reader.read(&Value::Object(earlier).to_string()).unwrap();
        reader.read(line)?;
        Ok(reader
            .present()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    /// The full parse with only `members` kept.
    fn fully(line: &str, members: &[&str]) -> Result<Context, String> {
        parse_context(line).map(|mut context| {
            context.retain(|name, _| members.contains(&name.as_str()));
            context
        })
    }

    #[test]
    fn lazy_reading_agrees_with_the_full_parse() {
        let members = ["targetingKey", "country", "user"];
        for line in [
            r#"{"targetingKey": "u-1", "country": "SG", "email": "a@b.c"}"#,
            // Escapes, in values and in names (`\u0065` is `e`).
            r#"{"targ\u0065tingKey": "u\"2\n", "country": "S\u00e9", "n\u00e9": "\ud83d\ude00"}"#,
            // A repeated member: the last value wins, as in a map.
            r#"{"country": "SG", "x": 1, "country": "MY"}"#,
            // Nested objects and arrays, kept whole or skipped whole.
            r#"{"user": {"id": 7, "tags": ["a", {"b": [1, 2.5e3, -0.0]}]}, "skip": {"deep": [[[{}]]]}}"#,
            // Numbers of every shape, in skipped and kept members.
            r#"{"n": [0, -1, 1.5, 1e300, 18446744073709551615, -9223372036854775808], "country": 1e2}"#,
            r#"{}"#,
            "  {\"country\" : null }  ",
            // Not what a context is, or not JSON at all: the same error, at the same place.
            r#"[1, 2]"#,
            r#""text""#,
            "42",
            "null",
            r#"{"country": "SG""#,
            r#"{"country": "SG",}"#,
            r#"{"country": "SG"} trailing"#,
            r#"[1] x"#,
            r#"{"skip": 1e400}"#,
            r#"{"skip": "\ud800"}"#,
            r#"{"skip": "\x"}"#,
            "{\"skip\": \"tab\there\"}",
            r#"{"\ud800": 1}"#,
            r#"{"skip": [1, 2}"#,
            r#"{"skip": tru}"#,
            r#"{"skip": 01}"#,
            r#"{country: 1}"#,
        ] {
            assert_eq!(lazily(line, &members), fully(line, &members), "{line}");
        }
    }

    #[test]
    fn nesting_too_deep_fails_as_the_full_parse_does() {
        for depth in [126, 127, 128, 129, 200] {
            let line = format!(
                "{{\"skip\": {}{}, \"country\": 1}}",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            assert_eq!(
                lazily(&line, &["country"]),
                fully(&line, &["country"]),
                "{depth}"
            );
        }
    }

    #[test]
    fn reading_everything_is_the_full_parse() {
        let line = r#"{"a": 1, "b": {"c": [true, null]}, "a": 2}"#;
        let mut reader = ContextReader::new(&Reads::All);
        reader.read(r#"{"z": 0}"#).unwrap();
        let context = reader.read(line).unwrap().clone();
        assert_eq!(context, parse_context(line).unwrap());
        let keys: Vec<&String> = context.keys().collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn native_flags_evaluate_alike_on_lazy_and_full_contexts() {
        let mut set = FlagSet::new();
        let condition = |attr: &str, op, value| Condition {
            attr: attr.into(),
            op,
            value,
        };
        let mut variants = flag("x", Native::default()).variants;
        variants.insert("off".into(), json!(false));
        set.insert(Flag {
            variants,
            ..flag(
                "split",
                Native {
                    layer: Some(crate::eval::Layer {
                        name: "l".into(),
                        from: 0,
                        to: 80,
                    }),
                    rules: vec![
                        Rule {
                            name: "not-sg".into(),
                            conditions: vec![
                                condition("country", Op::Ne, json!("SG")),
                                condition("plan.tier", Op::NotIn, json!(["free"])),
                            ],
                            action: Action::Serve("off".into()),
                        },
                        Rule {
                            name: "rollout".into(),
                            conditions: vec![],
                            action: Action::Rollout(Rollout {
                                bucket_by: Some("user".into()),
                                entries: vec![("on".into(), 50), ("off".into(), 50)],
                            }),
                        },
                    ],
                    ..Native::default()
                },
            )
        });
        let reads = Reads::of(&set, ["split"]);
        let mut reader = ContextReader::new(&reads);
        for unit in 0..50 {
            for line in [
                format!(r#"{{"targetingKey": "u{unit}", "country": "SG", "user": "v{unit}"}}"#),
                format!(r#"{{"targetingKey": "u{unit}", "user": "v{unit}", "other": [1]}}"#),
                format!(r#"{{"targetingKey": "u{unit}", "country": null, "user": null}}"#),
                format!(
                    r#"{{"targetingKey": "u{unit}", "country": "SG", "plan": {{"tier": "free"}}}}"#
                ),
                format!(
                    r#"{{"targetingKey": "u{unit}", "country": "SG", "plan": "free", "user": 5}}"#
                ),
                format!(r#"{{"country": "MY", "user": "v{unit}"}}"#),
                r#"{"targetingKey": null}"#.to_owned(),
            ] {
                let full = parse_context(&line).unwrap();
                let lazy = reader.read(&line).unwrap();
                assert_eq!(
                    set.evaluate("split", lazy),
                    set.evaluate("split", &full),
                    "{line}"
                );
            }
        }
    }

    fn flag(key: &str, native: Native) -> Flag {
        Flag {
            key: key.into(),
            state: State::Enabled,
            variants: [("on".to_string(), json!(true))].into_iter().collect(),
            default_variant: Some("on".into()),
            metadata: Default::default(),
            targeting: Targeting::Native(native),
        }
    }

    #[test]
    fn a_flag_reads_its_conditions_rollouts_layer_and_prerequisites() {
        let mut set = FlagSet::new();
        let condition = |attr: &str| Condition {
            attr: attr.into(),
            op: Op::Eq,
            value: json!("x"),
        };
        set.insert(flag(
            "base",
            Native {
                rules: vec![Rule {
                    name: "r".into(),
                    conditions: vec![condition("user.plan")],
                    action: Action::Rollout(Rollout {
                        bucket_by: Some("account".into()),
                        entries: vec![("on".into(), 1)],
                    }),
                }],
                ..Native::default()
            },
        ));
        set.insert(flag(
            "top",
            Native {
                prerequisites: vec![
                    Prerequisite {
                        flag: "base".into(),
                        variant: "on".into(),
                    },
                    Prerequisite {
                        flag: "missing".into(),
                        variant: "on".into(),
                    },
                ],
                rules: vec![Rule {
                    name: "r".into(),
                    conditions: vec![condition("country")],
                    action: Action::Rollout(Rollout {
                        bucket_by: None,
                        entries: vec![("on".into(), 1)],
                    }),
                }],
                ..Native::default()
            },
        ));
        let members = |reads: Reads| match reads {
            Reads::Members(members) => members,
            Reads::All => panic!("a native flag reads named members"),
        };
        assert_eq!(members(Reads::of(&set, ["base"])), ["account", "user"]);
        assert_eq!(
            members(Reads::of(&set, ["top"])),
            ["account", "country", "targetingKey", "user"]
        );
        let flagd = FlagSet::from_flagd_json(
            r#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a",
                "targeting": {"if": [{"var": "x"}, "a", null]}}}}"#,
        )
        .unwrap();
        assert_eq!(Reads::of(&flagd, ["f"]), Reads::All);
    }
}
