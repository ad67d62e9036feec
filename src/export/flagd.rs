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
//!   default, with the comparison to the required variant pushed into each branch, so
//!   branches serving a named variant fold to `true` or `false`.
//! - A layer is flagd's `fractional` over `cat(layer name, targetingKey)` with weights
//!   `[from, to - from, 100 - to]`: exactly the engine's layer bucket.
//! - A rollout on the targeting key is `fractional` without a bucketing value, which
//!   flagd hashes as flag key and targeting key in either version; a rollout on a
//!   `bucket_by` attribute, and one inlined as a prerequisite, is `fractional` over
//!   `cat(flag key, value)`.
//! - Segments are already inlined into each rule's conditions.
//!
//! Inlining is bounded rather than shared. flagd's `$evaluators` would let one expression
//! serve many flags, but every engine substitutes each `{"$ref": name}` as text when it
//! loads a file, so shared prerequisites would be as large in flagd's memory as inlined
//! ones; and a `$ref` inside an evaluator resolves only when the engine happens to visit
//! the evaluators in the right order (Go iterates a map at random; JS, Java and Python go
//! in file order), so nested references are not portable. Instead a flag whose
//! prerequisites are out of the engine's bounds (a cycle, more than
//! `MAX_PREREQUISITE_DEPTH` levels or `MAX_PREREQUISITES` unfolded) is refused, as `eval`
//! fails it and `audit` reports it: each exported flag inlines at most that many
//! prerequisites, at most that deep.
//!
//! Everything exported means the same in every flagd engine (Go, JS, Python, Java): only
//! the portable subset of JSONLogic is used (the README's "Portable targeting"). Each
//! condition compares by type behind guards that hold alike everywhere: presence is
//! `!== null` (loose `!=` reads null as 0 in JS and Python), "is a string" is flagd's
//! `starts_with(value, "")`, a custom operator's null on bad input is compared `=== true`
//! (Go's `and` skips a null), and targeting is always an object (Python refuses any other).

use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

use crate::eval::{
    Action, Flag, FlagSet, Fractional, Layer, Native, Prerequisite, Rollout, State, TARGETING_KEY,
    Targeting,
};
use crate::model::condition::{Condition, Op};

/// The JSON schema flagd publishes for flag-definition files.
pub const SCHEMA: &str = "https://flagd.dev/schema/v0/flags.json";

/// How deep JSON may nest for flagctl's own flagd loader (serde_json reads 127 levels),
/// which `export --verify` reads the file with. The prerequisite bounds keep targeting
/// far shallower; this is the backstop.
const MAX_JSON_NESTING: usize = 127;

/// How many refused flags an error names.
const NAMED_REFUSALS: usize = 5;

/// The flagd flag-definition file of a set of TOML flags, flags sorted by key, with
/// `version` as the flag set's version. Fails on flags whose prerequisites are out of
/// bounds (a cycle has no finite JSONLogic form, and deep or wide ones would not stay
/// small), and on flags that are not TOML flags.
pub fn to_flagd(set: &FlagSet, version: &str) -> Result<Value> {
    let mut flags: Vec<&Flag> = set.flags().collect();
    flags.sort_by(|a, b| a.key.cmp(&b.key));
    refuse_out_of_bounds(set, &flags)?;
    let mut definitions = Map::new();
    for flag in flags {
        let definition = Compiler { set }.flag(flag)?;
        // The document, `flags` and the flag's own object come on top.
        let nesting = nesting(&definition) + 2;
        if nesting > MAX_JSON_NESTING {
            bail!(
                "flag \"{}\" would nest {nesting} levels deep in the flagd file, more than the {MAX_JSON_NESTING} that `export --verify` and `eval --flagd` read; require fewer flags in a chain",
                flag.key
            );
        }
        definitions.insert(flag.key.clone(), definition);
    }
    Ok(json!({
        "$schema": SCHEMA,
        "metadata": {"version": version},
        "flags": definitions,
    }))
}

/// Fails, naming the first few, when flags have prerequisites beyond the engine's bounds.
fn refuse_out_of_bounds(set: &FlagSet, flags: &[&Flag]) -> Result<()> {
    let mut refused = flags
        .iter()
        .filter_map(|flag| Some((&flag.key, set.out_of_bounds(&flag.key)?)));
    let mut lines: Vec<String> = refused
        .by_ref()
        .take(NAMED_REFUSALS)
        .map(|(key, out)| format!("flag \"{key}\": {}", out.message))
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let more = refused.count();
    if more > 0 {
        lines.push(format!("and {more} more"));
    }
    bail!(
        "{}\nnot exported: flagd has no cross-flag references, so each prerequisite is inlined, and these would not stay finite or small; `flagctl audit` reports them (dependency-cycle, dependency-depth)",
        lines.join("\n")
    )
}

struct Compiler<'s> {
    set: &'s FlagSet,
}

/// Whose targeting an expression is: the exported flag's own, or a prerequisite's inlined
/// into it (where `$flagd.flagKey` is not the prerequisite's key).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Own,
    Inlined,
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
            (State::Enabled, None) => (
                default,
                self.targeting(flag, native, &Value::Null, Place::Own)?
                    .map(as_object),
            ),
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
    /// default. The flag's prerequisites are within bounds, so the recursion is too.
    fn targeting(
        &self,
        flag: &'s Flag,
        native: &'s Native,
        fallback: &Value,
        place: Place,
    ) -> Result<Option<Value>> {
        // Without rules every path ends at the default.
        if native.rules.is_empty() {
            return Ok(None);
        }
        let mut gate = Vec::new();
        for prerequisite in &native.prerequisites {
            gate.push(self.prerequisite(prerequisite)?);
        }
        if let Some(layer) = &native.layer {
            gate.push(inside_layer(layer));
        }
        let mut branches = Vec::with_capacity(native.rules.len());
        for rule in &native.rules {
            let action = match &rule.action {
                Action::Serve(variant) => Value::String(variant.clone()),
                Action::Rollout(rollout) => self.rollout(flag, rollout, fallback, place)?,
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
    fn prerequisite(&self, prerequisite: &Prerequisite) -> Result<Value> {
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
        let fallback = Value::String(default.clone());
        let served = self.targeting(required, native, &fallback, Place::Inlined)?;
        Ok(match served {
            None => Value::Bool(default == wanted),
            Some(served) => serves(served, wanted),
        })
    }
}

/// An expression, for a condition, that holds exactly when `served` yields the variant
/// `wanted`: the comparison is pushed into each result of `served`'s `if`s, so a branch
/// that names a variant folds to `true` or `false`, and so does an `if` whose results
/// all fold alike.
fn serves(served: Value, wanted: &str) -> Value {
    let args = match served {
        Value::String(variant) => return Value::Bool(variant == wanted),
        Value::Object(mut object) if object.len() == 1 && object.contains_key("if") => {
            match object.remove("if") {
                Some(Value::Array(args)) => args,
                other => return json!({"===": [{"if": other}, wanted]}),
            }
        }
        other => return json!({"===": [other, wanted]}),
    };
    // Results sit at odd positions, and last when the count is odd (the `else`); an `if`
    // without an `else` yields null, which is no variant.
    let count = args.len();
    let mut args: Vec<Value> = args
        .into_iter()
        .enumerate()
        .map(|(index, arg)| {
            let result = index % 2 == 1 || index + 1 == count;
            if result { serves(arg, wanted) } else { arg }
        })
        .collect();
    if count % 2 == 0 {
        args.push(Value::Bool(false));
    }
    let results: Vec<&Value> = args.iter().skip(1).step_by(2).chain(args.last()).collect();
    if let [first, rest @ ..] = results.as_slice()
        && first.is_boolean()
        && rest.iter().all(|result| result == first)
    {
        return (*first).clone();
    }
    if let [condition, Value::Bool(true), Value::Bool(false)] = args.as_slice() {
        return condition.clone();
    }
    json!({"if": args})
}

/// How deep a JSON value nests: 0 for a scalar, 1 for a flat array or object.
fn nesting(value: &Value) -> usize {
    let inner = match value {
        Value::Array(items) => items.iter().map(nesting).max(),
        Value::Object(members) => members.values().map(nesting).max(),
        _ => return 0,
    };
    1 + inner.unwrap_or(0)
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

/// Targeting that is not an object is wrapped in one: the Python engine refuses any
/// other targeting (PARSE_ERROR on every evaluation), and flagd's schema wants an object.
fn as_object(targeting: Value) -> Value {
    if targeting.is_object() {
        targeting
    } else {
        json!({"if": [true, targeting]})
    }
}

/// `value` is present: neither absent nor null. Strict `!==` means this in every engine;
/// loose `!=` does not (JS and Python read null as 0 there, so 0 would be "missing").
fn present(value: &Value) -> Value {
    json!({"!==": [value, null]})
}

/// `value` is a string: flagd's `starts_with` is true for any string and null (or false)
/// for anything else, in every engine, and fails on nothing.
fn is_string(value: &Value) -> Value {
    json!({"===": [{"starts_with": [value, ""]}, true]})
}

/// The targeting key as the engine buckets on it: a string, and not empty.
fn targeting_key_present() -> Value {
    let key = json!({"var": TARGETING_KEY});
    json!({"and": [is_string(&key), {"!==": [key, ""]}]})
}

/// `var` equals `literal`, of the same type. `===` says so in every engine but Python's,
/// whose `===` is Python's `==`, where `true == 1` and `false == 0`. So a comparison with
/// 0 or 1 also asks that `cat` not write the value as a boolean (Python writes "True":
/// only a Python boolean gets that far, elsewhere it is a number by then, which Go's
/// `cat` needs); and a
/// comparison with `true` or `false` asks that the value not be a version, which the
/// numbers 1 and 0 are, and booleans in no engine.
fn equals(var: &Value, literal: &Value) -> Value {
    let same = json!({"===": [var, literal]});
    match literal {
        Value::Number(n) if matches!(n.as_f64(), Some(x) if x == 0.0 || x == 1.0) => {
            let text = json!({"cat": [var]});
            let booleans = ["true", "false", "True", "False"];
            json!({"and": [same, {"!": [{"in": [text, booleans]}]}]})
        }
        Value::Bool(b) => {
            let number = if *b { "1.0.0" } else { "0.0.0" };
            json!({"and": [same, {"!==": [{"sem_ver": [var, "=", number]}, true]}]})
        }
        _ => same,
    }
}

/// A condition as JSONLogic that holds exactly when the native condition does, in every
/// engine; see the table in `eval::native`.
fn condition(condition: &Condition) -> Value {
    let var = json!({"var": condition.attr});
    let value = &condition.value;
    let one_of = || {
        let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
        any(items.iter().map(|item| equals(&var, item)).collect())
    };
    let affix = |op: &str| json!({"===": [{op: [var, value]}, true]});
    let ordered = |op: &str| {
        let not_string = json!({"!==": [{"starts_with": [var, ""]}, true]});
        json!({"and": [present(&var), not_string, {op: [var, value]}]})
    };
    let sem_ver = |symbol: &str| json!({"and": [is_string(&var), {"===": [{"sem_ver": [var, symbol, value]}, true]}]});
    match condition.op {
        Op::Eq => equals(&var, value),
        Op::Ne => not(equals(&var, value)),
        Op::In => one_of(),
        Op::NotIn => not(one_of()),
        Op::StartsWith => affix("starts_with"),
        Op::EndsWith => affix("ends_with"),
        // A string holds the operand; anything else is an element of `merge`'s array,
        // since JS fails `in` on a haystack that is neither string nor array.
        Op::Contains => json!({"if": [
            is_string(&var),
            {"in": [value, var]},
            {"in": [value, {"merge": [var]}]},
        ]}),
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

/// The negation of a condition, folding literals.
fn not(condition: Value) -> Value {
    match condition {
        Value::Bool(b) => Value::Bool(!b),
        other => json!({"!": [other]}),
    }
}

/// The disjunction of `parts`, folding literal `true` and `false`.
fn any(parts: Vec<Value>) -> Value {
    let mut kept = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            Value::Bool(false) => {}
            Value::Bool(true) => return Value::Bool(true),
            part => kept.push(part),
        }
    }
    match kept.len() {
        0 => Value::Bool(false),
        1 => kept.pop().expect("one part"),
        _ => json!({"or": kept}),
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

impl Compiler<'_> {
    /// A rollout: `fractional`, `fallback` when the unit is missing. On the targeting key
    /// a flag's own rollout is flagd's `fractional` without a bucketing value, which
    /// hashes the flag key and the targeting key as the engine does in either version; a
    /// prerequisite's, inlined into another flag, names its key with `cat` (the same text
    /// in v2; v3 hashes `[flagKey, targetingKey]` only for the flag evaluated, so there it
    /// cannot be inlined). On an attribute, `cat` joins the flag key and the value.
    fn rollout(
        &self,
        flag: &Flag,
        rollout: &Rollout,
        fallback: &Value,
        place: Place,
    ) -> Result<Value> {
        let total: u64 = rollout
            .entries
            .iter()
            .map(|(_, weight)| u64::from(*weight))
            .sum();
        if total == 0 {
            return Ok(fallback.clone());
        }
        if total > crate::eval::MAX_TOTAL_WEIGHT {
            bail!(
                "flag \"{}\": a rollout's weights sum to {total}, more than flagd's fractional takes ({}); scale them down",
                flag.key,
                crate::eval::MAX_TOTAL_WEIGHT
            );
        }
        let mut distribution = Vec::with_capacity(rollout.entries.len() + 1);
        let guard = match (&rollout.bucket_by, place, self.set.fractional()) {
            (None, Place::Own, _) => targeting_key_present(),
            (None, Place::Inlined, Fractional::V2) => {
                distribution.push(json!({"cat": [flag.key, {"var": TARGETING_KEY}]}));
                targeting_key_present()
            }
            (None, Place::Inlined, Fractional::V3) => bail!(
                "flag \"{}\" is required by another flag and rolls out on the targeting key: with fractional v3 flagd hashes [flagKey, targetingKey] only for the flag it evaluates, so the rollout cannot be inlined into the flag that requires it; roll it out on an attribute (`bucket_by`), or export with `[export] fractional = \"v2\"`",
                flag.key
            ),
            (Some(attr), _, _) => {
                let value = json!({"var": attr});
                distribution.push(json!({"cat": [flag.key, value]}));
                is_string(&value)
            }
        };
        distribution.extend(
            rollout
                .entries
                .iter()
                .map(|(variant, weight)| json!([variant, weight])),
        );
        Ok(json!({"if": [guard, {"fractional": distribution}, fallback]}))
    }
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

    fn set_of(flags: &[(impl AsRef<str>, String)]) -> FlagSet {
        let config = Config::parse(&SourceFile::new("flagctl.toml", CONFIG)).unwrap();
        let mut set = FlagSet::new();
        for (key, text) in flags {
            let key = key.as_ref();
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
        set_of(&flags)
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
        // A flag file cannot hold them (the model refuses them); a set built otherwise
        // still cannot export them.
        use crate::eval::{Action, Flag, Native, Rollout, Rule, State, Targeting};
        let mut set = FlagSet::new();
        set.insert(Flag {
            key: "big".into(),
            state: State::Enabled,
            variants: [
                ("b".to_string(), json!(true)),
                ("c".to_string(), json!(false)),
            ]
            .into_iter()
            .collect(),
            default_variant: Some("b".into()),
            metadata: Default::default(),
            targeting: Targeting::Native(Native {
                rules: vec![Rule {
                    name: "r".into(),
                    conditions: Vec::new(),
                    action: Action::Rollout(Rollout {
                        bucket_by: None,
                        entries: vec![("b".into(), u32::MAX), ("c".into(), 1)],
                    }),
                }],
                ..Native::default()
            }),
        });
        let err = to_flagd(&set, "t").unwrap_err().to_string();
        assert!(err.contains("scale them down"), "{err}");
    }

    /// Flags `f0`..: each requires the `width` after it to serve `b`, and is layered,
    /// ruled and rolled out, so every level of the export nests as deep as it can.
    fn requiring_the_next(count: usize, width: usize) -> FlagSet {
        let files: Vec<(String, String)> = (0..count)
            .map(|i| {
                let requires: Vec<String> = (i + 1..count.min(i + 1 + width))
                    .map(|j| format!("{{ flag = \"f{j}\", variant = \"b\" }}"))
                    .collect();
                let header = format!(
                    "requires = [{}]\nlayer = {{ name = \"l{i}\", range = [0, 90] }}",
                    requires.join(", ")
                );
                let rules = "[[rules]]\nsegment = \"adults\"\n\
                             rollout = [{ variant = \"b\", weight = 9 }, { variant = \"c\", weight = 1 }]\n\
                             bucket_by = \"user.id\"\n";
                (format!("f{i}"), with_rules(&header, rules))
            })
            .collect();
        set_of(&files)
    }

    #[test]
    fn prerequisites_at_the_bounds_export_small_and_load() {
        use crate::eval::{MAX_PREREQUISITE_DEPTH, MAX_PREREQUISITES};
        let chain = requiring_the_next(MAX_PREREQUISITE_DEPTH + 1, 1);
        // Each flag requires the next two: 8 flags unfold into 53 prerequisites.
        let diamond = requiring_the_next(8, 2);
        assert!(diamond.out_of_bounds("f0").is_none());
        for set in [chain, diamond] {
            let document = to_flagd(&set, "t").unwrap();
            let text = serde_json::to_string(&document).unwrap();
            assert!(text.len() < 100_000, "{} bytes", text.len());
            assert!(nesting(&document) <= 82, "{}", nesting(&document));
            let generator = verify::probe_generator(&set);
            let contexts: Vec<Context> = (0..300)
                .map(|i| generator.context(3, i))
                .chain((0..300).map(|i| {
                    context(json!({"targetingKey": format!("u{i}"), "age": 30, "user": {"id": i}}))
                }))
                .collect();
            assert_agrees(&set, &contexts);
        }
        let wide = requiring_the_next(9, 2);
        let err = to_flagd(&wide, "t").unwrap_err().to_string();
        assert!(
            err.contains(&format!("at most {MAX_PREREQUISITES}")),
            "{err}"
        );
    }

    #[test]
    fn flags_beyond_the_bounds_are_refused_by_name() {
        let set = requiring_the_next(1000, 1);
        let err = to_flagd(&set, "t").unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 7, "{err}");
        assert!(
            lines[0].starts_with("flag \"f0\": its `requires` nest 999 levels deep (f0 → f1 → f2 → … → f999 (1000 flags))"),
            "{err}"
        );
        assert_eq!(lines[5], "and 978 more");
        assert!(lines[6].contains("dependency-depth"), "{err}");
    }

    #[test]
    fn a_prerequisite_compares_where_its_branches_name_variants() {
        let set = set_of(&[
            (
                "gate",
                with_rules(
                    "",
                    "[[rules]]\nwhen = [{ attr = \"beta\", eq = true }]\nserve = \"b\"\n",
                ),
            ),
            (
                "needs-b",
                with_rules(
                    "requires = [{ flag = \"gate\", variant = \"b\" }]",
                    "[[rules]]\nserve = \"c\"\n",
                ),
            ),
        ]);
        let document = to_flagd(&set, "t").unwrap();
        assert_eq!(
            document["flags"]["needs-b"]["targeting"],
            json!({"if": [{"and": [
                {"===": [{"var": "beta"}, true]},
                {"!==": [{"sem_ver": [{"var": "beta"}, "=", "1.0.0"]}, true]},
            ]}, "c", null]})
        );
    }

    #[test]
    fn a_rule_for_everyone_is_targeting_not_a_bare_variant() {
        // A bare string is a variant name to Go, JS and Java, and a PARSE_ERROR to Python.
        let set = set_of(&[("kill", with_rules("", "[[rules]]\nserve = \"b\"\n"))]);
        let document = to_flagd(&set, "t").unwrap();
        assert_eq!(
            document["flags"]["kill"]["targeting"],
            json!({"if": [true, "b"]})
        );
        assert_agrees(&set, &[context(json!({}))]);
    }

    /// Every operator an expression uses.
    fn operators(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(members) => {
                if members.len() == 1 {
                    out.extend(members.keys().cloned());
                }
                members.values().for_each(|member| operators(member, out));
            }
            Value::Array(items) => items.iter().for_each(|item| operators(item, out)),
            _ => {}
        }
    }

    #[test]
    fn only_portable_operators_are_exported() {
        let mut set = every_operator();
        for flag in layered_rollouts().flags() {
            set.insert(flag.clone());
        }
        let mut used = Vec::new();
        operators(&to_flagd(&set, "t").unwrap()["flags"], &mut used);
        for loose in ["==", "!=", "missing", "missing_some", "substr", "-", "+"] {
            assert!(!used.iter().any(|op| op == loose), "{loose} in {used:?}");
        }
    }

    #[test]
    fn exports_hold_no_unportable_construct() {
        let mut set = every_operator();
        for flag in layered_rollouts().flags() {
            set.insert(flag.clone());
        }
        for flag in requiring_the_next(4, 2).flags() {
            set.insert(flag.clone());
        }
        let document = to_flagd(&set, "t").unwrap();
        let found = crate::export::unportable(&document);
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_targeting_key_rollout_inlined_under_v3_is_refused() {
        let mut set = set_of(&[
            (
                "experiment",
                with_rules(
                    "",
                    "[[rules]]\nrollout = [{ variant = \"b\", weight = 1 }, { variant = \"c\", weight = 1 }]\n",
                ),
            ),
            (
                "needs-b",
                with_rules(
                    "requires = [{ flag = \"experiment\", variant = \"b\" }]",
                    "[[rules]]\nserve = \"c\"\n",
                ),
            ),
        ]);
        assert!(to_flagd(&set, "t").is_ok());
        set.set_fractional(Fractional::V3);
        let err = to_flagd(&set, "t").unwrap_err().to_string();
        assert!(err.contains("cannot be inlined"), "{err}");
    }

    #[test]
    fn the_nesting_backstop_is_what_the_loader_reads() {
        let nested = |depth: usize| "[".repeat(depth) + &"]".repeat(depth);
        let at_limit: Value = serde_json::from_str(&nested(MAX_JSON_NESTING)).unwrap();
        assert_eq!(nesting(&at_limit), MAX_JSON_NESTING);
        assert!(serde_json::from_str::<Value>(&nested(MAX_JSON_NESTING + 1)).is_err());
    }
}
