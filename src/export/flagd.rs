//! A flag set as a flagd flag-definition file (https://flagd.dev/reference/flag-definitions/).
//!
//! flagd has no cross-flag references, layers or segments, so each is compiled into the
//! flag's JSONLogic targeting, and the result serves the same variant as the engine for
//! every context (`export --verify` checks it):
//!
//! - A disabled flag and a concluded flag become static: `defaultVariant` is the default
//!   or the winner, the state stays `ENABLED` and there is no targeting (flagd would
//!   serve no variant at all for a `DISABLED` flag).
//! - A prerequisite inlines the required flag's own targeting, completed with its
//!   default, and compares the variant it yields (`===`).
//! - A layer is flagd's `fractional` over `cat(layer name, targetingKey)` with weights
//!   `[from, to - from, 100 - to]`: exactly the engine's layer bucket.
//! - A rollout is `fractional` over `cat(flag key, bucketing value)`, which is what
//!   flagd hashes by default, but also for a `bucket_by` attribute.
//! - Segments are already inlined into each rule's conditions.
//!
//! Missing attributes behave as in flagctl: JSONLogic's `<` reads null as 0, so the
//! ordering operators are guarded; `fractional` would fall back to the targeting key on a
//! null bucketing value, so rollouts and layers are guarded too. The other operators
//! already yield false (or null) on null.

use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

use crate::eval::{
    Action, Flag, FlagSet, Layer, Native, Prerequisite, Rollout, State, TARGETING_KEY, Targeting,
};
use crate::model::condition::{Condition, Op};

/// The JSON schema flagd publishes for flag-definition files.
pub const SCHEMA: &str = "https://flagd.dev/schema/v0/flags.json";

/// The largest total weight flagd's `fractional` accepts.
const MAX_TOTAL_WEIGHT: u64 = i32::MAX as u64;

/// The flagd flag-definition file of a set of TOML flags, flags sorted by key, with
/// `version` as the flag set's version. Fails on prerequisites that form a cycle, which
/// have no finite JSONLogic form, and on flags that are not TOML flags.
pub fn to_flagd(set: &FlagSet, version: &str) -> Result<Value> {
    let mut flags: Vec<&Flag> = set.flags().collect();
    flags.sort_by(|a, b| a.key.cmp(&b.key));
    let mut definitions = Map::new();
    for flag in flags {
        definitions.insert(flag.key.clone(), Compiler { set }.flag(flag)?);
    }
    Ok(json!({
        "$schema": SCHEMA,
        "metadata": {"version": version},
        "flags": definitions,
    }))
}

struct Compiler<'s> {
    set: &'s FlagSet,
}

impl<'s> Compiler<'s> {
    fn flag(&self, flag: &'s Flag) -> Result<Value> {
        let native = native(flag)?;
        let Some(default) = &flag.default_variant else {
            bail!("flag \"{}\" has no default variant", flag.key);
        };
        let (served, targeting) = match (flag.state, &native.winner) {
            (State::Disabled, _) => (default, None),
            (State::Enabled, Some(winner)) => (winner, None),
            (State::Enabled, None) => {
                let mut chain = vec![flag.key.as_str()];
                let targeting = self.targeting(flag, native, &Value::Null, &mut chain)?;
                (default, targeting)
            }
        };
        let mut definition = Map::new();
        definition.insert("state".into(), "ENABLED".into());
        definition.insert(
            "variants".into(),
            Value::Object(flag.variants.clone().into_iter().collect()),
        );
        definition.insert("defaultVariant".into(), served.as_str().into());
        if let Some(targeting) = targeting {
            definition.insert("targeting".into(), targeting);
        }
        if !flag.metadata.is_empty() {
            definition.insert("metadata".into(), Value::Object(flag.metadata.clone()));
        }
        Ok(Value::Object(definition))
    }

    /// An expression yielding the variant an enabled, unconcluded flag serves, with
    /// `fallback` where it would serve its default; `None` when it always serves its
    /// default. `chain` holds the flags whose prerequisites led here, to find cycles.
    fn targeting(
        &self,
        flag: &'s Flag,
        native: &'s Native,
        fallback: &Value,
        chain: &mut Vec<&'s str>,
    ) -> Result<Option<Value>> {
        // Without rules every path ends at the default.
        if native.rules.is_empty() {
            return Ok(None);
        }
        let mut gate = Vec::new();
        for prerequisite in &native.prerequisites {
            gate.push(self.prerequisite(prerequisite, chain)?);
        }
        if let Some(layer) = &native.layer {
            gate.push(inside_layer(layer));
        }
        let mut branches = Vec::with_capacity(native.rules.len());
        for rule in &native.rules {
            let action = match &rule.action {
                Action::Serve(variant) => Value::String(variant.clone()),
                Action::Rollout(rollout) => rollout_expr(flag, rollout, fallback)?,
            };
            branches.push((all(rule.conditions.iter().map(condition).collect()), action));
        }
        let rules = first_match(branches, fallback);
        let expression = match all(gate) {
            Value::Bool(true) => rules,
            Value::Bool(false) => return Ok(None),
            gate => json!({"if": [gate, rules, fallback]}),
        };
        Ok((expression != *fallback).then_some(expression))
    }

    /// Whether a prerequisite holds, as the engine decides it: the required flag exists,
    /// is not disabled, and serves the variant.
    fn prerequisite(&self, prerequisite: &Prerequisite, chain: &mut Vec<&'s str>) -> Result<Value> {
        let Some(required) = self.set.get(&prerequisite.flag) else {
            return Ok(Value::Bool(false));
        };
        let native = native(required)?;
        let wanted = prerequisite.variant.as_str();
        if required.state == State::Disabled {
            return Ok(Value::Bool(false));
        }
        if let Some(winner) = &native.winner {
            return Ok(Value::Bool(winner == wanted));
        }
        let Some(default) = &required.default_variant else {
            return Ok(Value::Bool(false));
        };
        if native.rules.is_empty() {
            return Ok(Value::Bool(default == wanted));
        }
        if let Some(start) = chain.iter().position(|key| *key == required.key) {
            let cycle: Vec<&str> = chain[start..]
                .iter()
                .copied()
                .chain([required.key.as_str()])
                .collect();
            bail!(
                "prerequisites form a cycle ({}), which flagd cannot express; break it (`flagctl audit` reports it as dependency-cycle)",
                cycle.join(" → ")
            );
        }
        chain.push(&required.key);
        let served = self.targeting(required, native, &Value::String(default.clone()), chain)?;
        chain.pop();
        Ok(match served {
            None => Value::Bool(default == wanted),
            Some(Value::String(variant)) => Value::Bool(variant == wanted),
            Some(served) => json!({"===": [served, wanted]}),
        })
    }
}

/// The engine form of a TOML flag.
fn native(flag: &Flag) -> Result<&Native> {
    match &flag.targeting {
        Targeting::Native(native) => Ok(native),
        _ => bail!(
            "flag \"{}\" is not a TOML flag; only the flags of a repository export",
            flag.key
        ),
    }
}

/// The first branch whose condition holds, else `fallback`: flagd's chained `if`, with
/// conditions known at export time folded away.
fn first_match(branches: Vec<(Value, Value)>, fallback: &Value) -> Value {
    let mut args = Vec::new();
    let mut otherwise = fallback.clone();
    for (condition, then) in branches {
        match condition {
            Value::Bool(false) => {}
            Value::Bool(true) => {
                otherwise = then;
                break;
            }
            condition => {
                args.push(condition);
                args.push(then);
            }
        }
    }
    if args.is_empty() {
        return otherwise;
    }
    args.push(otherwise);
    json!({"if": args})
}

/// The conjunction of `parts`, folding literal `true` and `false` and flattening nested
/// conjunctions.
fn all(parts: Vec<Value>) -> Value {
    let mut kept = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            Value::Bool(true) => {}
            Value::Bool(false) => return Value::Bool(false),
            Value::Object(mut object) if object.len() == 1 && object.contains_key("and") => {
                match object.remove("and") {
                    Some(Value::Array(inner)) => kept.extend(inner),
                    Some(other) => kept.push(json!({"and": other})),
                    None => unreachable!("checked above"),
                }
            }
            part => kept.push(part),
        }
    }
    match kept.len() {
        0 => Value::Bool(true),
        1 => kept.pop().expect("one part"),
        _ => json!({"and": kept}),
    }
}

/// `value` is present: neither absent nor null (JSONLogic's loose `!=` treats both alike).
fn present(value: &Value) -> Value {
    json!({"!=": [value, null]})
}

/// The targeting key as the engine buckets on it: present and not empty.
fn targeting_key_present() -> Value {
    let key = json!({"var": TARGETING_KEY});
    json!({"and": [present(&key), {"!==": [key, ""]}]})
}

/// A condition as JSONLogic; see the table in `eval::native` for why each holds exactly
/// when the native condition does.
fn condition(condition: &Condition) -> Value {
    let var = json!({"var": condition.attr});
    let value = &condition.value;
    let ordered = |op: &str| json!({"and": [present(&var), {op: [var, value]}]});
    let sem_ver = |symbol: &str| json!({"sem_ver": [var, symbol, value]});
    match condition.op {
        Op::Eq => json!({"==": [var, value]}),
        Op::Ne => json!({"!=": [var, value]}),
        Op::In => json!({"in": [var, value]}),
        Op::NotIn => json!({"!": [{"in": [var, value]}]}),
        Op::StartsWith => json!({"starts_with": [var, value]}),
        Op::EndsWith => json!({"ends_with": [var, value]}),
        Op::Contains => json!({"in": [value, var]}),
        Op::Lt => ordered("<"),
        Op::Lte => ordered("<="),
        Op::Gt => ordered(">"),
        Op::Gte => ordered(">="),
        Op::SemverEq => sem_ver("="),
        Op::SemverNe => sem_ver("!="),
        Op::SemverLt => sem_ver("<"),
        Op::SemverLte => sem_ver("<="),
        Op::SemverGt => sem_ver(">"),
        Op::SemverGte => sem_ver(">="),
        Op::SemverTilde => sem_ver("~"),
        Op::SemverCaret => sem_ver("^"),
    }
}

/// Whether the unit's layer bucket falls in `[from, to)`: `fractional` over the layer
/// name and the targeting key, in 100 buckets split below / in / above the range.
fn inside_layer(layer: &Layer) -> Value {
    let (from, to) = (layer.from.min(100), layer.to.min(100));
    if from >= to {
        return Value::Bool(false);
    }
    let key_present = targeting_key_present();
    if from == 0 && to == 100 {
        return key_present;
    }
    let mut distribution = vec![json!({"cat": [layer.name, {"var": TARGETING_KEY}]})];
    for (name, weight) in [("below", from), ("in", to - from), ("above", 100 - to)] {
        if weight > 0 {
            distribution.push(json!([name, weight]));
        }
    }
    all(vec![
        key_present,
        json!({"===": [{"fractional": distribution}, "in"]}),
    ])
}

/// A rollout: `fractional` over the flag key and the bucketing value, `fallback` when the
/// value is missing.
fn rollout_expr(flag: &Flag, rollout: &Rollout, fallback: &Value) -> Result<Value> {
    let total: u64 = rollout
        .entries
        .iter()
        .map(|(_, weight)| u64::from(*weight))
        .sum();
    if total == 0 {
        return Ok(fallback.clone());
    }
    if total > MAX_TOTAL_WEIGHT {
        bail!(
            "flag \"{}\": a rollout's weights sum to {total}, more than flagd's fractional takes ({MAX_TOTAL_WEIGHT}); scale them down",
            flag.key
        );
    }
    let (value, guard) = match &rollout.bucket_by {
        Some(attr) => {
            let value = json!({"var": attr});
            let guard = present(&value);
            (value, guard)
        }
        None => (json!({"var": TARGETING_KEY}), targeting_key_present()),
    };
    let mut distribution = vec![json!({"cat": [flag.key, value]})];
    distribution.extend(
        rollout
            .entries
            .iter()
            .map(|(variant, weight)| json!([variant, weight])),
    );
    Ok(json!({"if": [guard, {"fractional": distribution}, fallback]}))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::compile::compile_flag;
    use crate::eval::Context;
    use crate::export::verify;
    use crate::model::{Config, Flag as TomlFlag, SourceFile};

    const CONFIG: &str = r#"
[segments.sg-users]
when = [{ attr = "country", in = ["SG"] }]
[segments.adults]
when = [{ attr = "age", gte = 18 }]
"#;

    /// A flag file: the header, then `rest` (variants `a`, `b`, `c`; default `a`).
    fn flag_file(rest: &str) -> String {
        format!(
            "description = \"d\"\nkind = \"experiment\"\nowner = \"o@example.com\"\ncreated = 2026-11-01\n\
             expires = 2026-11-30\n{rest}\ndefault = \"a\"\n[variants]\na = \"A\"\nb = \"B\"\nc = \"C\"\n"
        )
    }

    fn set_of(flags: &[(&str, String)]) -> FlagSet {
        let config = Config::parse(&SourceFile::new("flagctl.toml", CONFIG)).unwrap();
        let mut set = FlagSet::new();
        for (key, text) in flags {
            let file = SourceFile::new(format!("flags/s/{key}.toml"), text.clone());
            let flag = TomlFlag::parse(&file, &config)
                .unwrap_or_else(|problems| panic!("{key}: {problems:?}"));
            set.insert(compile_flag(key, "s", &flag, &config));
        }
        set
    }

    /// A flag file with `header` lines and `[[rules]]` after the variants.
    fn with_rules(header: &str, rules: &str) -> String {
        flag_file(header) + rules
    }

    /// Every flag of the set agrees with its export on `contexts`.
    fn assert_agrees(set: &FlagSet, contexts: &[Context]) {
        let text = serde_json::to_string(&to_flagd(set, "test").unwrap()).unwrap();
        let exported = FlagSet::from_flagd_json(&text).unwrap();
        for context in contexts {
            for flag in set.flags() {
                let ours = set.evaluate(&flag.key, context);
                let theirs = exported.evaluate(&flag.key, context);
                assert_eq!(
                    (ours.variant, ours.value),
                    (theirs.variant, theirs.value),
                    "flag {} for {context:?} ({:?} / {:?})",
                    flag.key,
                    ours.reason,
                    theirs.error
                );
            }
        }
    }

    fn context(value: Value) -> Context {
        value.as_object().cloned().unwrap()
    }

    fn every_operator() -> FlagSet {
        let conditions = [
            r#"{ attr = "country", eq = "SG" }"#,
            r#"{ attr = "n", eq = 30 }"#,
            r#"{ attr = "country", ne = "MY" }"#,
            r#"{ attr = "country", in = ["SG", "MY"] }"#,
            r#"{ attr = "country", not_in = ["ID"] }"#,
            r#"{ attr = "email", starts_with = "ann" }"#,
            r#"{ attr = "email", ends_with = "@example.com" }"#,
            r#"{ attr = "email", contains = "nn@" }"#,
            r#"{ attr = "n", lt = 30 }"#,
            r#"{ attr = "n", lte = 30 }"#,
            r#"{ attr = "n", gt = 30 }"#,
            r#"{ attr = "n", gte = 30.5 }"#,
            r#"{ attr = "app.version", semver_eq = "1.2.3" }"#,
            r#"{ attr = "app.version", semver_ne = "1.2.3" }"#,
            r#"{ attr = "app.version", semver_lt = "1.2.3" }"#,
            r#"{ attr = "app.version", semver_lte = "1.2.3" }"#,
            r#"{ attr = "app.version", semver_gt = "1.2.3" }"#,
            r#"{ attr = "app.version", semver_gte = "1.2.3" }"#,
            r#"{ attr = "app.version", semver_tilde = "1.2.0" }"#,
            r#"{ attr = "app.version", semver_caret = "1.2.0" }"#,
        ];
        let flags: Vec<(String, String)> = conditions
            .iter()
            .enumerate()
            .map(|(i, condition)| {
                (
                    format!("op-{i}"),
                    with_rules(
                        "",
                        &format!("[[rules]]\nwhen = [{condition}]\nserve = \"b\"\n"),
                    ),
                )
            })
            .collect();
        let borrowed: Vec<(&str, String)> = flags
            .iter()
            .map(|(key, text)| (key.as_str(), text.clone()))
            .collect();
        set_of(&borrowed)
    }

    #[test]
    fn every_operator_agrees_with_its_export() {
        let set = every_operator();
        let generator = verify::probe_generator(&set);
        let contexts: Vec<Context> = (0..3000).map(|i| generator.context(1, i)).collect();
        assert_agrees(&set, &contexts);
    }

    #[test]
    fn ordering_operators_are_guarded_against_null() {
        let set = every_operator();
        // op-8 is `n lt 30`: JSONLogic alone would read a missing n as 0 < 30.
        let missing = context(json!({}));
        assert_eq!(set.evaluate("op-8", &missing).variant, Some("a"));
        assert_agrees(&set, &[missing, context(json!({"n": null}))]);
    }

    fn layered_rollouts() -> FlagSet {
        set_of(&[
            (
                "low",
                with_rules(
                    "layer = { name = \"l\", range = [0, 30] }",
                    "[[rules]]\nsegment = \"sg-users\"\nrollout = [{ variant = \"b\", weight = 1 }, { variant = \"c\", weight = 2 }]\n\
                     [[rules]]\nrollout = [{ variant = \"c\", weight = 7 }, { variant = \"a\", weight = 3 }]\nbucket_by = \"user.id\"\n",
                ),
            ),
            (
                "mid",
                with_rules(
                    "layer = { name = \"l\", range = [30, 70] }",
                    "[[rules]]\nserve = \"b\"\n",
                ),
            ),
            (
                "high",
                with_rules(
                    "layer = { name = \"l\", range = [70, 100] }",
                    "[[rules]]\nsegment = \"adults\"\nserve = \"c\"\n",
                ),
            ),
        ])
    }

    #[test]
    fn layers_and_rollouts_agree_on_edge_contexts() {
        let set = layered_rollouts();
        let mut contexts: Vec<Context> = (0..2000)
            .map(|i| {
                context(json!({
                    "targetingKey": format!("unit-{i}"),
                    "country": if i % 2 == 0 { "SG" } else { "MY" },
                    "user": {"id": i},
                    "age": i % 40,
                }))
            })
            .collect();
        for edge in [
            json!({}),
            json!({"targetingKey": ""}),
            json!({"targetingKey": "", "country": "SG", "age": 30, "user": {"id": 5}}),
            json!({"targetingKey": null, "country": "SG"}),
            json!({"targetingKey": 17, "country": "SG"}),
            json!({"targetingKey": "u1", "user": {"id": 1.0}}),
            json!({"targetingKey": "u1", "user": {"id": [1, "x"]}}),
            json!({"targetingKey": "u1", "user": {"id": {"deep": true}}}),
            json!({"targetingKey": "u1", "user": {"id": ""}}),
            json!({"targetingKey": "u1", "user": null}),
        ] {
            contexts.push(context(edge));
        }
        assert_agrees(&set, &contexts);
        // Each unit is in exactly one of the three layered flags' ranges.
        let exported = FlagSet::from_flagd_json(&to_flagd(&set, "t").unwrap().to_string()).unwrap();
        for i in 0..200 {
            let ctx = context(json!({"targetingKey": format!("unit-{i}"), "age": 30}));
            let served = ["low", "mid", "high"]
                .iter()
                .filter(|key| exported.evaluate(key, &ctx).variant != Some("a"))
                .count();
            assert!(served <= 1, "unit-{i} in {served} slices");
        }
    }

    #[test]
    fn prerequisites_inline_the_required_flags_targeting() {
        let set = set_of(&[
            (
                "gate",
                with_rules(
                    "",
                    "[[rules]]\nwhen = [{ attr = \"beta\", eq = true }]\nserve = \"b\"\n\
                     [[rules]]\nrollout = [{ variant = \"c\", weight = 1 }, { variant = \"a\", weight = 1 }]\n",
                ),
            ),
            (
                "needs-b",
                with_rules(
                    "requires = [{ flag = \"gate\", variant = \"b\" }]",
                    "[[rules]]\nserve = \"c\"\n",
                ),
            ),
            (
                "needs-a",
                with_rules(
                    "requires = [{ flag = \"gate\", variant = \"a\" }, { flag = \"needs-b\", variant = \"a\" }]",
                    "[[rules]]\nserve = \"b\"\n",
                ),
            ),
            (
                "needs-missing",
                with_rules(
                    "requires = [{ flag = \"nowhere\", variant = \"a\" }]",
                    "[[rules]]\nserve = \"b\"\n",
                ),
            ),
        ]);
        let contexts: Vec<Context> = (0..500)
            .map(|i| {
                let mut ctx = json!({"targetingKey": format!("u{i}")});
                if i % 3 == 0 {
                    ctx["beta"] = json!(true);
                }
                context(ctx)
            })
            .chain([context(json!({})), context(json!({"beta": true}))])
            .collect();
        assert_agrees(&set, &contexts);
        let document = to_flagd(&set, "t").unwrap();
        assert_eq!(
            document["flags"]["needs-missing"].get("targeting"),
            None,
            "a prerequisite on no flag always fails"
        );
    }

    #[test]
    fn disabled_and_concluded_flags_are_static_and_enabled() {
        let concluded = format!(
            "{}[[rules]]\nserve = \"b\"\n[conclusion]\ndate = 2026-11-20\nwinner = \"c\"\nremove_by = 2026-12-20\n",
            flag_file("")
        );
        let set = set_of(&[
            (
                "killed",
                with_rules("state = \"disabled\"", "[[rules]]\nserve = \"b\"\n"),
            ),
            ("done", concluded),
            (
                "needs-killed",
                with_rules(
                    "requires = [{ flag = \"killed\", variant = \"a\" }]",
                    "[[rules]]\nserve = \"b\"\n",
                ),
            ),
        ]);
        let document = to_flagd(&set, "abc123").unwrap();
        assert_eq!(document["$schema"], json!(SCHEMA));
        assert_eq!(document["metadata"], json!({"version": "abc123"}));
        let killed = &document["flags"]["killed"];
        assert_eq!(killed["state"], json!("ENABLED"));
        assert_eq!(killed["defaultVariant"], json!("a"));
        assert_eq!(killed.get("targeting"), None);
        assert_eq!(document["flags"]["done"]["defaultVariant"], json!("c"));
        assert_eq!(
            document["flags"]["done"]["metadata"],
            json!({"owner": "o@example.com", "kind": "experiment", "service": "s", "expires": "2026-11-30"})
        );
        // A killed prerequisite fails even though its default is the required variant.
        assert_eq!(document["flags"]["needs-killed"].get("targeting"), None);
        assert_eq!(
            document["flags"]["needs-killed"]["defaultVariant"],
            json!("a")
        );
        assert_agrees(&set, &[context(json!({"targetingKey": "u"}))]);
    }

    #[test]
    fn prerequisite_cycles_are_refused() {
        let set = set_of(&[
            (
                "x",
                with_rules(
                    "requires = [{ flag = \"y\", variant = \"b\" }]",
                    "[[rules]]\nserve = \"b\"\n",
                ),
            ),
            (
                "y",
                with_rules(
                    "requires = [{ flag = \"x\", variant = \"b\" }]",
                    "[[rules]]\nserve = \"b\"\n",
                ),
            ),
        ]);
        let err = to_flagd(&set, "t").unwrap_err().to_string();
        assert!(err.contains("cycle (x → y → x)"), "{err}");
    }

    #[test]
    fn weights_beyond_flagd_are_refused() {
        let set = set_of(&[(
            "big",
            with_rules(
                "",
                "[[rules]]\nrollout = [{ variant = \"b\", weight = 2147483647 }, { variant = \"c\", weight = 1 }]\n",
            ),
        )]);
        let err = to_flagd(&set, "t").unwrap_err().to_string();
        assert!(err.contains("scale them down"), "{err}");
    }
}
