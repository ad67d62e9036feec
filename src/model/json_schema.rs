//! JSON Schemas of the two file formats of a flag repository, a flag file and
//! `flagctl.toml`, for editors that check TOML against JSON Schema (Taplo, Even Better
//! TOML) and for `flagctl schema`.
//!
//! The parser decides what a file may hold; the types here describe the same tables to a
//! schema generator (draft-07, the draft Taplo reads), and the plain types the parser
//! reads directly (`Policy`, `Owner`, `ServiceConfig`, `State`) describe themselves. Tests
//! keep the two in step: the keys at every level are the parser's own key lists (the
//! [`Shape`]s that find unknown keys), and removing any key of a complete example, or
//! giving it a value of another type, is refused by both or by neither.
//!
//! What no schema can say is left to `flagctl validate`: that a kind needs `expires` or
//! `review_by` (kinds live in `flagctl.toml`), that a rule serves a declared variant, that
//! a segment exists, and that a date is a TOML date: an editor checks a TOML date as its
//! text, so `"2026-11-01"` in quotes passes the schema but not the parser.
//!
//! [`Shape`]: super::schema::Shape

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use super::condition::{Op, Operand};
use super::config::{
    CleanupConfig, Config, MAX_DAYS, Owner, Policy, RefsConfig, SEVERITY_LEVELS, ServiceConfig,
};
use super::flag::State;
use super::names::NAME_PATTERN;
use super::parse::toml_to_json_with;
use crate::rules::RuleId;

/// The JSON Schema of a flag file (`flags/<service>/<key>.toml`, archived ones too).
pub fn flag() -> Value {
    document::<FlagFile>()
}

/// The JSON Schema of `flagctl.toml`.
pub fn config() -> Value {
    document::<ConfigFile>()
}

fn document<T: JsonSchema>() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings
        .transforms
        .insert(0, Box::new(RecursiveTransform(without_null)));
    settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// TOML has no null: an optional key is one that may be missing, never one set to null.
fn without_null(schema: &mut Schema) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|ty| ty != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".into(), only);
        }
    }
    let Some(Value::Array(any_of)) = schema.get_mut("anyOf") else {
        return;
    };
    any_of.retain(|alternative| alternative != &json!({ "type": "null" }));
    if let [Value::Object(only)] = any_of.as_slice() {
        let only = only.clone();
        schema.remove("anyOf");
        for (key, value) in only {
            schema.insert(key, value);
        }
    }
}

/// A TOML document as the JSON an editor checks against a schema: each date as its text
/// (`2026-11-01`), as Taplo has it.
pub fn instance(text: &str) -> Result<Value, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    toml_to_json_with(&toml::Value::Table(table), &|date| {
        Ok(Value::String(date.to_string()))
    })
}

// The types below are only described to the schema generator, never built or read.

/// A feature flag: one file per flag, `flags/<service>/<key>.toml`, where `<key>` is the flag key used in code; archived flags live under `flags/_archive/`.
#[derive(JsonSchema)]
#[schemars(title = "flagctl flag file", deny_unknown_fields)]
#[allow(dead_code)]
struct FlagFile {
    /// What the flag changes and why (not empty).
    #[schemars(regex(pattern = r"\S"))]
    description: String,
    /// A kind declared in flagctl.toml: by default `experiment`, `release`, `operational` (temporary: they need `expires`) or `kill-switch`, `regulatory`, `parameter` (permanent: they need `review_by`).
    #[schemars(extend("examples" = default_kinds()))]
    kind: String,
    /// The owner: a name under `[owners]` in flagctl.toml, or an e-mail or @handle when it declares none.
    owner: String,
    /// The day the flag was created.
    created: LocalDate,
    /// Temporary kinds: the day the flag expires, at most `max_days` after `created`.
    expires: Option<LocalDate>,
    /// Permanent kinds: the day the next review is due, at most `review_days` after `reviewed` (or `created`).
    review_by: Option<LocalDate>,
    /// The day of the last review (`flagctl review`).
    reviewed: Option<LocalDate>,
    /// `disabled`: killed (`flagctl kill`), the flag serves `default` to everyone.
    #[schemars(default)]
    state: State,
    /// Free-form labels.
    tags: Option<Vec<String>>,
    /// The work item, e.g. `ML-123`.
    ticket: Option<String>,
    /// What the flag changes (`model:ranker`, `feature:…`, `param:…`): two live temporary flags that control one thing conflict unless they take disjoint ranges of one layer.
    controls: Option<Vec<String>>,
    /// Keys of flags that must not be live together with this one.
    conflicts_with: Option<Vec<String>>,
    /// Prerequisites: each flag must serve its variant, else this flag serves `default`.
    requires: Option<Vec<Requirement>>,
    /// A mutually exclusive traffic slice of a named layer.
    layer: Option<Layer>,
    /// The safe baseline variant: served when no rule matches, when the flag is disabled, and when a prerequisite fails.
    default: String,
    /// The variants and their values, at least one; all values of one TOML type.
    #[schemars(schema_with = "variants")]
    variants: Value,
    /// Targeting rules, evaluated in order: the first that matches serves its variant or rollout.
    rules: Option<Vec<Rule>>,
    /// Written by `flagctl expire`: the flag serves its winner from `date` on.
    conclusion: Option<Conclusion>,
    /// Written by `flagctl archive`.
    archived: Option<Archived>,
}

/// A prerequisite: `{ flag = KEY, variant = NAME }`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Requirement {
    /// The key of the flag required.
    flag: String,
    /// The variant it must serve.
    variant: String,
}

/// `{ name = LAYER, range = [from, to] }`: the units whose layer bucket (0 to 99) falls in [from, to).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Layer {
    /// The layer; flags of one layer take disjoint ranges.
    name: String,
    /// Percent `[from, to)` with from < to, within [0, 100).
    range: [i64; 2],
}

/// A targeting rule: it matches when its segment and every condition of `when` hold, and then serves one variant (`serve`) or splits traffic (`rollout`).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, transform = serve_or_rollout)]
#[allow(dead_code)]
struct Rule {
    /// A name for reports and `eval --explain`.
    name: Option<String>,
    /// A segment declared under `[segments]` in flagctl.toml.
    segment: Option<String>,
    /// Conditions that must all hold.
    when: Option<Vec<Condition>>,
    /// The variant served.
    serve: Option<String>,
    /// Variants with relative weights, bucketed by flagd's `fractional`.
    #[schemars(length(min = 1))]
    rollout: Option<Vec<Weight>>,
    /// The context attribute a rollout buckets on (default: the targeting key).
    bucket_by: Option<String>,
}

/// Exactly one of `serve` and `rollout`.
fn serve_or_rollout(schema: &mut Schema) {
    schema.insert(
        "oneOf".into(),
        json!([{ "required": ["serve"] }, { "required": ["rollout"] }]),
    );
}

/// `{ variant = NAME, weight = N }`: a share of a rollout.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Weight {
    /// A declared variant, once per rollout.
    variant: String,
    /// A relative share; the weights of a rollout sum to more than 0.
    #[schemars(range(max = u32::MAX))]
    weight: u32,
}

/// The conclusion of a temporary flag.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Conclusion {
    /// The day the flag was concluded.
    date: LocalDate,
    /// The variant served to everyone from `date` on.
    winner: String,
    /// The day the flag must be archived by (`date` + `removal_grace_days`).
    remove_by: LocalDate,
    /// What the experiment showed.
    results: Option<String>,
}

/// When the flag was archived.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Archived {
    /// The day it was archived.
    date: LocalDate,
    /// The last commit that served it.
    commit: Option<String>,
    /// The results of a flag archived without a conclusion.
    results: Option<String>,
}

/// `flagctl.toml`: every part is optional, and what is missing takes its default.
#[derive(JsonSchema)]
#[schemars(title = "flagctl.toml", deny_unknown_fields)]
#[allow(dead_code)]
struct ConfigFile {
    /// The folder of the flag files, relative to the repository root and outside `.git`.
    #[schemars(default = "default_flags_dir")]
    flags_dir: String,
    /// Limits every service and flag is held to.
    policy: Option<Policy>,
    /// Kinds of flags, added to (or replacing) the default kinds of the same name: `experiment`, `release` (30 days), `operational` (7 days), `kill-switch`, `regulatory`, `parameter` (reviewed every 90 days).
    kinds: Option<IndexMap<String, KindTable>>,
    /// The teams that may own flags; when none are declared, an owner is an e-mail or @handle.
    owners: Option<IndexMap<String, Owner>>,
    /// Per-service limits, by service name (the folder under the flags folder).
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    services: Option<IndexMap<String, ServiceConfig>>,
    /// Named sets of conditions that rules refer to with `segment`.
    segments: Option<IndexMap<String, Segment>>,
    /// Severities of audit rules, by rule name: `error`, `warning` or `off`.
    // Optional, with no default shown (a schema function hides the `Option` from the derive).
    #[schemars(
        schema_with = "severities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    severity: Option<Value>,
    /// Where and how code references to flags are found (`refs`, `audit --refs`, `report`, `cleanup`).
    refs: Option<RefsConfig>,
    /// When a finished flag is ready to be removed (`report`, `archive --ready`).
    cleanup: Option<CleanupConfig>,
    /// How flags are exported to flagd.
    export: Option<ExportTable>,
}

/// `[export]`: how flags are exported to flagd.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct ExportTable {
    /// The bucketing of flagd's `fractional` in the flagd release you serve with: `v2`
    /// (MurmurHash3 of the text; flagd's current release, the default) or `v3` (MurmurHash3
    /// of canonical CBOR, by type). Rollouts and layers are evaluated with it too.
    #[schemars(schema_with = "fractional_versions", default = "default_fractional")]
    fractional: String,
}

fn default_fractional() -> String {
    crate::eval::Fractional::default().name().to_owned()
}

/// `[export] fractional`: the versions flagctl knows.
fn fractional_versions(_: &mut SchemaGenerator) -> Schema {
    let names = crate::eval::Fractional::ALL.map(crate::eval::Fractional::name);
    json_schema!({ "type": "string", "enum": names })
}

fn default_flags_dir() -> String {
    Config::default().flags_dir
}

fn default_kinds() -> Vec<String> {
    Config::default().kinds.into_keys().collect()
}

/// A kind: temporary kinds expire after `max_days`, permanent ones are reviewed every `review_days`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, transform = kind_days)]
#[allow(dead_code)]
struct KindTable {
    /// Flags of this kind expire (`expires`); else they are reviewed (`review_by`).
    #[schemars(default)]
    temporary: bool,
    /// Temporary kinds: the longest a flag may live, in days.
    #[schemars(range(max = MAX_DAYS))]
    max_days: Option<u32>,
    /// Permanent kinds: the longest between reviews, in days.
    #[schemars(range(max = MAX_DAYS))]
    review_days: Option<u32>,
    /// Days before the deadline that a flag of this kind is `expiring-soon` or
    /// `review-due-soon` (default: the policy's `warn_days`, at most half the lifetime).
    #[schemars(range(max = MAX_DAYS))]
    warn_days: Option<u32>,
}

/// A temporary kind has `max_days` and no `review_days`; a permanent one the other way round.
fn kind_days(schema: &mut Schema) {
    let needs = |days: &str, not: &str| json!({ "required": [days], "not": { "required": [not] } });
    schema.insert(
        "if".into(),
        json!({ "properties": { "temporary": { "const": true } }, "required": ["temporary"] }),
    );
    schema.insert("then".into(), needs("max_days", "review_days"));
    schema.insert("else".into(), needs("review_days", "max_days"));
}

/// A segment: conditions that must all hold.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Segment {
    /// Conditions that must all hold.
    when: Vec<Condition>,
}

/// `[severity]`: levels by rule name.
fn severities(_: &mut SchemaGenerator) -> Schema {
    let levels: Vec<&str> = SEVERITY_LEVELS.iter().map(|(name, _)| *name).collect();
    let rules: serde_json::Map<String, Value> = RuleId::ALL
        .into_iter()
        .map(|rule| {
            let description = format!(
                "{} (default: {})",
                rule.summary(),
                rule.default_severity().name()
            );
            let level = json!({ "description": description, "enum": levels });
            (rule.name().to_string(), level)
        })
        .collect();
    json_schema!({
        "type": "object",
        "properties": rules,
        "additionalProperties": false,
    })
}

/// The variants of a flag: valid names, at least one, values of one type.
fn variants(_: &mut SchemaGenerator) -> Schema {
    let one_type = ["string", "boolean", "number", "array", "object"]
        .map(|ty| json!({ "additionalProperties": { "type": ty } }));
    json_schema!({
        "type": "object",
        "minProperties": 1,
        "propertyNames": { "pattern": NAME_PATTERN },
        "anyOf": one_type,
    })
}

/// A TOML local date, such as `2026-11-01`.
struct LocalDate;

impl JsonSchema for LocalDate {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "LocalDate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A TOML local date, such as 2026-11-01 (no quotes, no time).",
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        })
    }
}

/// A condition, `{ attr = NAME, OP = VALUE }`, with one operator of the engine's.
struct Condition;

impl JsonSchema for Condition {
    fn schema_name() -> Cow<'static, str> {
        "Condition".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let scalar = json!({ "type": ["string", "number", "boolean"] });
        let mut properties = serde_json::Map::new();
        properties.insert(
            "attr".into(),
            json!({ "description": "The context attribute compared.", "type": "string", "minLength": 1 }),
        );
        for op in Op::ALL {
            let operand = match op.operand() {
                Operand::Scalar => scalar.clone(),
                Operand::List => json!({ "type": "array", "items": scalar }),
                Operand::String => json!({ "type": "string" }),
                Operand::Number => json!({ "type": "number" }),
                Operand::Semver => json!({
                    "type": "string",
                    "pattern": "^[vV]?[0-9]+\\.[0-9]+\\.[0-9]+([-+].*)?$",
                }),
            };
            properties.insert(op.name().into(), operand);
        }
        json_schema!({
            "description": "{ attr = NAME, OP = VALUE }: one operator per condition; a missing attribute fails every operator but `ne` and `not_in`.",
            "type": "object",
            "properties": properties,
            "required": ["attr"],
            "minProperties": 2,
            "maxProperties": 2,
            "additionalProperties": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::CONFIG_SHAPE;
    use super::super::flag::FLAG_SHAPE;
    use super::super::names::name_problem;
    use super::super::schema::Shape;
    use super::super::{Flag, SourceFile};
    use super::*;

    /// The example repository's files that the mutations start from.
    const RANKER_V2: &str = include_str!("../../flags/ranking/ranker-v2.toml");
    const KILL_SWITCH: &str = include_str!("../../flags/ranking/ranking-kill-switch.toml");
    const ARCHIVED: &str = include_str!("../../flags/_archive/ranking/ranker-v1-warmup.toml");
    const CONFIG: &str = include_str!("../../flagctl.toml");

    /// `ranker-v2` with the keys no example flag has: together with the other two, every
    /// key a flag file may hold.
    fn complete_experiment() -> String {
        RANKER_V2
            .replace(
                "ticket = \"ML-123\"\n",
                "ticket = \"ML-123\"\nstate = \"disabled\"\nconflicts_with = [\"ranker-calibration\"]\n",
            )
            .replace(
                "segment = \"sg-users\"\n",
                "segment = \"sg-users\"\nwhen = [{ attr = \"app\", semver_gte = \"2.1.0\" }, { attr = \"tier\", not_in = [1, 2] }]\n",
            )
            + "\n[conclusion]\ndate = 2026-11-20\nwinner = \"candidate\"\nremove_by = 2026-12-20\nresults = \"AUC +0.8%\"\n"
    }

    /// The example `flagctl.toml` with the sections it leaves to their defaults.
    fn complete_config() -> String {
        CONFIG.to_string()
            + "\n[kinds.experiment]\ntemporary = true\nmax_days = 14\nwarn_days = 5\n\n[kinds.kill-switch]\nreview_days = 90\n\n[severity]\nexpiring-soon = \"error\"\n"
            + "\n[export]\nfractional = \"v3\"\n"
            + "\n[[cleanup.rules]]\nname = \"feature-on\"\nlanguage = \"python\"\npattern = \"feature_on($KEY)\"\nrewrite = \"$VALUE\"\n"
    }

    fn config_schema() -> Value {
        super::config()
    }

    fn config() -> Config {
        Config::parse(&SourceFile::new("flagctl.toml", CONFIG)).unwrap()
    }

    fn flag_parses(text: &str) -> bool {
        Flag::parse(&SourceFile::new("flags/ranking/x.toml", text), &config()).is_ok()
    }

    fn config_parses(text: &str) -> bool {
        Config::parse(&SourceFile::new("flagctl.toml", text)).is_ok()
    }

    fn fits(validator: &jsonschema::Validator, text: &str) -> bool {
        validator.is_valid(&instance(text).unwrap())
    }

    /// Every key `shape` allows, by path (`.rules[].rollout[].weight`, `.kinds.*.max_days`).
    fn allowed(shape: &Shape, path: &str, out: &mut Vec<String>) {
        match shape {
            Shape::Any | Shape::Leaf(_) => {}
            Shape::Table(fields) => {
                for (key, inner) in fields.iter() {
                    out.push(format!("{path}.{key}"));
                    allowed(inner, &format!("{path}.{key}"), out);
                }
            }
            Shape::Map(inner) => allowed(inner, &format!("{path}.*"), out),
            Shape::List(inner) => allowed(inner, &format!("{path}[]"), out),
        }
    }

    /// Every key of `value` that `shape` allows, by path as [`allowed`] names them.
    fn present(shape: &Shape, value: &toml::Value, path: &str, out: &mut Vec<String>) {
        match (shape, value) {
            (Shape::Table(fields), toml::Value::Table(table)) => {
                for (key, inner) in fields.iter() {
                    if let Some(item) = table.get(*key) {
                        out.push(format!("{path}.{key}"));
                        present(inner, item, &format!("{path}.{key}"), out);
                    }
                }
            }
            (Shape::Map(inner), toml::Value::Table(table)) => {
                for item in table.values() {
                    present(inner, item, &format!("{path}.*"), out);
                }
            }
            (Shape::List(inner), toml::Value::Array(items)) => {
                for item in items {
                    present(inner, item, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }

    /// Between them, `texts` hold every key `shape` allows.
    fn assert_every_key(shape: &Shape, texts: &[&str]) {
        let mut found = Vec::new();
        for text in texts {
            present(
                shape,
                &toml::Value::Table(text.parse().unwrap()),
                "",
                &mut found,
            );
        }
        let mut missing = Vec::new();
        allowed(shape, "", &mut missing);
        missing.retain(|key| !found.contains(key));
        assert!(missing.is_empty(), "no example has {missing:?}");
    }

    /// `schema` itself, or what its `$ref` (bare or as the one item of `allOf`) names.
    fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
        let reference = schema["$ref"]
            .as_str()
            .or_else(|| schema["allOf"][0]["$ref"].as_str());
        match reference.and_then(|r| r.strip_prefix("#/definitions/")) {
            Some(name) => &root["definitions"][name],
            None => schema,
        }
    }

    /// The tables of `schema` have exactly the keys `shape` lists, and refuse others.
    fn assert_same_keys(root: &Value, schema: &Value, shape: &Shape, path: &str) {
        let schema = resolve(root, schema);
        match shape {
            Shape::Any | Shape::Leaf(_) => {}
            Shape::Table(fields) => {
                let properties = schema["properties"].as_object().expect(path);
                let mut described: Vec<&str> = properties.keys().map(String::as_str).collect();
                let mut parsed: Vec<&str> = fields.iter().map(|(key, _)| *key).collect();
                described.sort_unstable();
                parsed.sort_unstable();
                assert_eq!(described, parsed, "keys of `{path}`");
                assert_eq!(schema["additionalProperties"], false, "`{path}`");
                for (key, inner) in fields.iter() {
                    assert_same_keys(root, &properties[*key], inner, &format!("{path}.{key}"));
                }
            }
            Shape::Map(inner) => assert_same_keys(
                root,
                &schema["additionalProperties"],
                inner,
                &format!("{path}.*"),
            ),
            Shape::List(inner) => {
                assert_same_keys(root, &schema["items"], inner, &format!("{path}[]"))
            }
        }
    }

    #[test]
    fn the_keys_are_the_parsers_own() {
        let flag = flag();
        assert_same_keys(&flag, &flag, &FLAG_SHAPE, "flag");
        let config = config_schema();
        assert_same_keys(&config, &config, &CONFIG_SHAPE, "flagctl.toml");
    }

    #[test]
    fn the_name_pattern_is_the_name_rule() {
        let pattern = json!({ "type": "string", "pattern": NAME_PATTERN });
        let validator = jsonschema::validator_for(&pattern).unwrap();
        let long = "a".repeat(100);
        let too_long = "a".repeat(101);
        for name in [
            "ranker-v2.1_b",
            "0day",
            long.as_str(),
            too_long.as_str(),
            "",
            "_archive",
            "-x",
            "Bad",
            "a b",
            "../x",
            "a/b",
            "é",
        ] {
            assert_eq!(
                validator.is_valid(&json!(name)),
                name_problem(name).is_none(),
                "{name:?}"
            );
        }
    }

    /// Where a value sits in a document.
    #[derive(Clone, Debug)]
    enum Step {
        Key(String),
        Index(usize),
    }

    /// The path of every value under `value`.
    fn paths(value: &toml::Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        let children: Vec<(Step, &toml::Value)> = match value {
            toml::Value::Table(table) => table
                .iter()
                .map(|(key, v)| (Step::Key(key.clone()), v))
                .collect(),
            toml::Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Step::Index(i), v))
                .collect(),
            _ => Vec::new(),
        };
        for (step, child) in children {
            at.push(step);
            out.push(at.clone());
            paths(child, at, out);
            at.pop();
        }
    }

    fn at_mut<'a>(value: &'a mut toml::Value, path: &[Step]) -> &'a mut toml::Value {
        path.iter().fold(value, |value, step| match step {
            Step::Key(key) => &mut value[key.as_str()],
            Step::Index(index) => &mut value[*index],
        })
    }

    /// Each key removed, each value given another type, and a key added to each table:
    /// the mutations are named by path.
    fn mutations(text: &str) -> Vec<(String, String)> {
        let document = toml::Value::Table(text.parse().unwrap());
        let mut all = Vec::new();
        paths(&document, &mut Vec::new(), &mut all);
        all.push(Vec::new());
        let name = |path: &[Step]| {
            path.iter()
                .map(|step| match step {
                    Step::Key(key) => format!(".{key}"),
                    Step::Index(index) => format!("[{index}]"),
                })
                .collect::<String>()
        };
        let mut out = Vec::new();
        let mut push = |what: String, document: toml::Value| {
            out.push((what, toml::to_string(&document).unwrap()));
        };
        for path in all {
            let mut retyped = document.clone();
            let value = at_mut(&mut retyped, &path);
            match value {
                toml::Value::Table(table) => {
                    table.insert("zzz".into(), toml::Value::Integer(1));
                    push(format!("added {}.zzz", name(&path)), retyped.clone());
                    if path.is_empty() {
                        continue;
                    }
                    let value = at_mut(&mut retyped, &path);
                    *value = toml::Value::String("x".into());
                }
                toml::Value::String(_) => *value = toml::Value::Integer(1),
                _ => *value = toml::Value::String("x".into()),
            }
            push(format!("retyped {}", name(&path)), retyped);
            if let Some((Step::Key(key), parent)) = path.split_last() {
                let mut removed = document.clone();
                if let toml::Value::Table(table) = at_mut(&mut removed, parent) {
                    table.remove(key);
                }
                push(format!("removed {}", name(&path)), removed);
            }
        }
        out
    }

    /// The parser and the schema agree on every mutation of `text` but those that start
    /// with one of the `exceptions`.
    fn assert_agree(text: &str, schema: &Value, parses: fn(&str) -> bool, exceptions: &[&str]) {
        let schema = jsonschema::validator_for(schema).unwrap();
        assert!(parses(text) && fits(&schema, text), "the example itself");
        let mutations = mutations(text);
        assert!(mutations.len() > 20, "{} mutations", mutations.len());
        let mut disagreements = Vec::new();
        for (what, mutated) in mutations {
            let (parsed, fitted) = (parses(&mutated), fits(&schema, &mutated));
            let excepted = exceptions.iter().any(|e| what.starts_with(e));
            if parsed != fitted && !excepted {
                disagreements.push(format!("{what}: parser {parsed}, schema {fitted}"));
            }
            if parsed && !fitted {
                disagreements.push(format!("{what}: the schema refuses a valid file"));
            }
        }
        assert!(disagreements.is_empty(), "{disagreements:#?}");
    }

    #[test]
    fn the_flag_schema_refuses_what_the_parser_refuses() {
        // What only flagctl.toml (the kind's dates) or the rest of the file (the variants
        // that `default`, rules and the conclusion name) decides.
        let exceptions = [
            "removed .expires",
            "removed .review_by",
            "removed .variants.",
        ];
        let experiment = complete_experiment();
        // The archived example ends in its [archived] table.
        let archived = format!("{ARCHIVED}results = \"v1.4 became the baseline\"\n");
        let examples = [experiment.as_str(), KILL_SWITCH, archived.as_str()];
        assert_every_key(&FLAG_SHAPE, &examples);
        for text in examples {
            assert_agree(text, &flag(), flag_parses, &exceptions);
        }
    }

    #[test]
    fn the_config_schema_refuses_what_the_parser_refuses() {
        // Services allow these owners: only the rest of the file says they must be declared.
        let exceptions = ["removed .owners."];
        let config = complete_config();
        assert_every_key(&CONFIG_SHAPE, &[&config]);
        assert_agree(&config, &config_schema(), config_parses, &exceptions);
    }
}
