//! What each fuzz target does with one input: the path flagctl takes with a file from a
//! pull request, plus the invariants that must hold on any input. A panic here is a bug.
//!
//! Each function returns how many bytes of results it produced (rendered diagnostics,
//! findings, serialized values), so a regression test can bound the work done.

use chrono::NaiveDate;
use rayon::prelude::*;
use serde_json::{Map, Value};

use flagctl::checks::{AuditCtx, Severities, Sink, audit};
use flagctl::compile;
use flagctl::eval::{
    Context, FlagSet, FlagType, Resolution, TARGETING_KEY, insert_path, numbered_lines,
    parse_attribute, parse_context, simulate,
};
use flagctl::model::{Config, Flag, Problem, SourceFile};
use flagctl::repo::Repo;
use flagctl::report::{self, Report};

/// The day audits run on.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("a valid date")
}

/// What JSONLogic's `$flagd.timestamp` reads.
const TIMESTAMP: i64 = 1_700_000_000;

/// Inputs are texts: flagctl reads files as UTF-8 and rejects the rest before parsing.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Target `flag_file`: one flag file, parsed against the default `flagctl.toml`. A flag
/// that fits the schema is compiled and evaluated; problems are rendered as `validate`
/// renders them.
pub fn flag_file(data: &[u8]) -> usize {
    let Some(text) = text(data) else { return 0 };
    let file = SourceFile::new("flags/search/fuzz-flag.toml", text);
    let config = Config::default();
    match Flag::parse(&file, &config) {
        Ok(flag) => {
            flag.kind_of(&config);
            let mut set = FlagSet::new();
            set.insert(compile::compile_flag("fuzz-flag", "search", &flag, &config));
            evaluate_all(&set, &sample_contexts(text))
        }
        Err(problems) => render_problems(&file, &problems),
    }
}

/// Target `config`: `flagctl.toml`. A valid one is queried as the checks query it, and a
/// fixed flag file that uses a segment is parsed and evaluated against its kinds and
/// segments.
pub fn config(data: &[u8]) -> usize {
    let Some(text) = text(data) else { return 0 };
    let file = SourceFile::new("flagctl.toml", text);
    let config = match Config::parse(&file) {
        Ok(config) => config,
        Err(problems) => return render_problems(&file, &problems),
    };
    let _ = Severities::from_config(&config);
    let mut produced = config.kind_names().len();
    for service in config.services.keys().map(String::as_str).chain(["search"]) {
        produced += config.service_limit(service);
        for owner in config.owners.keys().map(String::as_str).chain(["@someone"]) {
            produced += config.owner_problem(owner, service).map_or(0, |p| p.len());
        }
    }
    let flag = SourceFile::new("flags/search/fuzz-flag.toml", conditions_flag());
    match Flag::parse(&flag, &config) {
        Ok(parsed) => {
            let mut set = FlagSet::new();
            set.insert(compile::compile_flag(
                "fuzz-flag",
                "search",
                &parsed,
                &config,
            ));
            produced + evaluate_all(&set, &sample_contexts(text))
        }
        Err(problems) => produced + render_problems(&flag, &problems),
    }
}

/// Target `flagd`: a flagd flag-definition file, then every flag evaluated for the
/// contexts the input suggests: none, the document's own `context` member (flagd ignores
/// members it does not know), and targeting keys taken from the text.
pub fn flagd(data: &[u8]) -> usize {
    let Some(text) = text(data) else { return 0 };
    let Ok(mut set) = FlagSet::from_flagd_json(text) else {
        return 0;
    };
    set.set_timestamp(TIMESTAMP);
    let mut contexts = sample_contexts(text);
    if let Ok(Value::Object(document)) = serde_json::from_str::<Value>(text)
        && let Some(Value::Object(context)) = document.get("context")
    {
        contexts.push(context.clone());
    }
    evaluate_all(&set, &contexts)
}

/// Target `context`: a JSON Lines file of contexts as `eval --contexts` and `simulate
/// --contexts` read it, each line also tried as a `--ctx` attribute, evaluated against a
/// fixed set of flagd and TOML flags.
pub fn context(data: &[u8]) -> usize {
    let Some(text) = text(data) else { return 0 };
    let set = fixed_set();
    let mut base = Context::new();
    let mut contexts = Vec::new();
    for (_, line) in numbered_lines(text) {
        if let Ok(context) = parse_context(line) {
            contexts.push(context);
        }
        if let Ok((name, value)) = parse_attribute(line) {
            insert_path(&mut base, &name, value);
        }
    }
    // `eval --ctx … --contexts F`: each line over the command line's context.
    let merged: Vec<Context> = contexts
        .iter()
        .map(|context| {
            let mut merged = base.clone();
            merged.extend(context.iter().map(|(k, v)| (k.clone(), v.clone())));
            merged
        })
        .collect();
    contexts.push(base);
    contexts.extend(merged);
    let mut produced = evaluate_all(set, &contexts);
    // `simulate --contexts F`.
    for flag in set.flags() {
        let lines = contexts.par_iter().cloned().map(anyhow::Ok);
        let simulation = simulate(set, &flag.key, lines).expect("the flag exists");
        assert_eq!(simulation.contexts, contexts.len() as u64);
        produced += simulation.variants.len() + simulation.outcomes.len();
    }
    produced
}

/// Target `checks`: a whole repository in one text. The text up to the first `#@ PATH`
/// line is `flagctl.toml` (none when blank); each `#@ PATH` line starts the file at PATH
/// (relative to the root, such as `flags/search/a.toml`). `#@` lines are TOML comments,
/// so each part is a file as it would be on disk. Every audit check runs and the findings
/// are rendered in every format; the active flags are compiled and evaluated.
pub fn checks(data: &[u8]) -> usize {
    let Some(text) = text(data) else { return 0 };
    let (config, files) = split_repository(text);
    let Ok(repo) = Repo::from_texts(config, &files) else {
        return 0;
    };
    let severities = Severities::from_config(&repo.config);
    let mut sink = Sink::new(&severities);
    let ctx = AuditCtx {
        repo: &repo,
        today: today(),
        history: None,
        refs: None,
        added: None,
    };
    audit(&ctx, &mut sink);
    let findings = sink.into_findings();
    for finding in &findings {
        let file = repo.files.iter().find(|f| f.source.path == finding.path);
        if let Some(file) = file {
            assert_span(&file.source, &finding.span);
        }
    }
    let notes = ["a note".to_owned()];
    let report = Report {
        as_of: today(),
        files: &repo.files,
        config: None,
        code: &[],
        findings: &findings,
        notes: &notes,
        failure: None,
        base: "platform/".to_owned(),
    };
    let mut out = Vec::new();
    report::human(&mut out, &report, false).expect("renders to memory");
    report::human(&mut out, &report, true).expect("renders to memory");
    report::json(&mut out, &report).expect("renders to memory");
    report::sarif(&mut out, &report).expect("renders to memory");
    report::junit(&mut out, &report).expect("renders to memory");
    report::github(&mut out, &report).expect("renders to memory");
    let set = compile::flag_set(&repo);
    out.len() + evaluate_all(&set, &sample_contexts(text))
}

/// The config text and the `(path, text)` files of a [`checks`] input. A path given
/// twice keeps its first text: a work tree has one file per path.
pub fn split_repository(text: &str) -> (Option<&str>, Vec<(&str, &str)>) {
    let mut parts = text.split("#@ ");
    let config = parts.next().unwrap_or("");
    let mut seen = std::collections::HashSet::new();
    let files = parts
        .map(|part| part.split_once('\n').unwrap_or((part, "")))
        .map(|(path, body)| (path.trim_end(), body))
        .filter(|(path, _)| seen.insert(*path))
        .collect();
    let config = (!config.trim().is_empty()).then_some(config);
    (config, files)
}

/// Each flag evaluated for each context, explained, and resolved as a typed request:
/// the bytes of the values served.
fn evaluate_all(set: &FlagSet, contexts: &[Context]) -> usize {
    let mut produced = 0;
    let keys: Vec<String> = set.flags().map(|flag| flag.key.clone()).collect();
    for context in contexts {
        for (index, key) in keys.iter().enumerate() {
            let resolution = set.evaluate(key, context);
            assert_resolution(&resolution);
            produced += resolution.value.map_or(0, |v| v.to_string().len());
            produced += resolution.metadata().len();
            let (explained, steps) = set.explain(key, context);
            assert_eq!(explained, resolution, "explain agrees with evaluate");
            produced += steps.len();
            let flag_type = TYPES[index % TYPES.len()];
            let typed = set.resolve_typed(key, flag_type, Value::Null, context);
            produced += typed.value.to_string().len();
        }
    }
    produced
}

const TYPES: [FlagType; 5] = [
    FlagType::Boolean,
    FlagType::String,
    FlagType::Integer,
    FlagType::Float,
    FlagType::Object,
];

/// What every resolution promises: an error exactly with reason `ERROR`, and a value
/// exactly with a variant.
fn assert_resolution(resolution: &Resolution<'_>) {
    assert_eq!(
        resolution.error.is_some(),
        resolution.reason == flagctl::eval::Reason::Error,
        "{resolution:?}"
    );
    assert_eq!(
        resolution.variant.is_some(),
        resolution.value.is_some(),
        "{resolution:?}"
    );
}

/// Contexts made from the input: none, and targeting keys and attributes taken from it.
fn sample_contexts(text: &str) -> Vec<Context> {
    let mut keyed = Context::new();
    let key: String = text.chars().take(16).collect();
    keyed.insert(TARGETING_KEY.into(), Value::String(key.clone()));
    for name in [
        "user_id",
        "country",
        "email",
        "platform",
        "app_version",
        "tier",
    ] {
        keyed.insert(name.into(), Value::String(key.clone()));
    }
    let mut numeric = Map::new();
    numeric.insert(TARGETING_KEY.into(), Value::from(text.len()));
    numeric.insert("account_age_days".into(), Value::from(text.len()));
    vec![Context::new(), keyed, numeric]
}

/// Problems rendered as `validate` renders them, after checking that each span points
/// into the file.
fn render_problems(file: &SourceFile, problems: &[Problem]) -> usize {
    assert!(!problems.is_empty(), "an error has at least one problem");
    for problem in problems {
        assert_span(file, &problem.span);
    }
    let mut out = Vec::new();
    report::human_problems(&mut out, file, problems, false).expect("renders to memory");
    out.len()
}

/// A span lies within the text, on character boundaries, and has a line and column.
fn assert_span(file: &SourceFile, span: &std::ops::Range<usize>) {
    let text = &file.text;
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "span {span:?} outside a text of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "span {span:?} splits a character"
    );
    let (line, column) = file.line_col(span.start);
    assert!(line >= 1 && column >= 1);
}

/// The flags the `context` target evaluates: the example repository's (segments, rules,
/// rollouts, layers, prerequisites) and flagd flags using each JSONLogic operator on
/// context attributes.
fn fixed_set() -> &'static FlagSet {
    static SET: std::sync::OnceLock<FlagSet> = std::sync::OnceLock::new();
    SET.get_or_init(build_fixed_set)
}

fn build_fixed_set() -> FlagSet {
    let conditions = conditions_flag();
    let files = [
        (
            "flags/fraud/threshold.toml",
            include_str!("../../flags/fraud/fraud-score-threshold.toml"),
        ),
        (
            "flags/ranking/ranker-v2.toml",
            include_str!("../../flags/ranking/ranker-v2.toml"),
        ),
        (
            "flags/ranking/ranking-kill-switch.toml",
            include_str!("../../flags/ranking/ranking-kill-switch.toml"),
        ),
        ("flags/search/conditions.toml", conditions.as_str()),
    ];
    let repo = Repo::from_texts(Some(include_str!("../../flagctl.toml")), &files)
        .expect("the example flagctl.toml is valid");
    let mut set = FlagSet::from_flagd_json(LOGIC_FLAGS).expect("the fixed flagd flags load");
    set.set_timestamp(TIMESTAMP);
    for flag in compile::flag_set(&repo).flags() {
        assert!(set.insert(flag.clone()).is_none(), "keys are distinct");
    }
    assert_eq!(set.flags().count(), 4 + files.len());
    set
}

/// The example fraud threshold (three variants, two rules) with a rule on the segment
/// `internal` (of the example `flagctl.toml`, and of a fuzzed one when it declares it)
/// and rules that use every native operator, then a rollout.
fn conditions_flag() -> String {
    const RULES: [(&str, &str); 7] = [
        ("segmented", r#"segment = "internal""#),
        (
            "strings",
            r#"when = [{ attr = "user.email", ends_with = "@example.com" }, { attr = "name", starts_with = "a" }, { attr = "tags", contains = "x" }]"#,
        ),
        (
            "sets",
            r#"when = [{ attr = "country", not_in = ["SG", "DE"] }, { attr = "plan", ne = "free" }, { attr = "tier", eq = 3 }]"#,
        ),
        (
            "numbers",
            r#"when = [{ attr = "age", gte = 18 }, { attr = "age", lt = 65.5 }, { attr = "score", gt = 0.5 }, { attr = "score", lte = 1 }]"#,
        ),
        (
            "versions",
            r#"when = [{ attr = "app_version", semver_caret = "5.2.0" }, { attr = "app_version", semver_tilde = "5.2.0" }, { attr = "os", semver_ne = "1.0.0" }]"#,
        ),
        (
            "version-range",
            r#"when = [{ attr = "app_version", semver_gt = "1.0.0" }, { attr = "app_version", semver_lte = "9.0.0" }, { attr = "v", semver_eq = "1.2.3" }, { attr = "v", semver_lt = "2.0.0" }, { attr = "v", semver_gte = "0.1.0" }]"#,
        ),
        ("bucketed", r#"bucket_by = "user.id""#),
    ];
    let variants = ["strict", "standard", "lenient"];
    let mut text = include_str!("../../flags/fraud/fraud-score-threshold.toml").to_owned();
    for (index, (name, rule)) in RULES.iter().enumerate() {
        let serve = if *name == "bucketed" {
            r#"rollout = [{ variant = "strict", weight = 1 }, { variant = "lenient", weight = 2 }]"#
                .to_owned()
        } else {
            format!("serve = \"{}\"", variants[index % variants.len()])
        };
        text += &format!("\n[[rules]]\nname = \"{name}\"\n{rule}\n{serve}\n");
    }
    text
}

/// flagd flags whose targeting reads the context through each JSONLogic operator.
const LOGIC_FLAGS: &str = r#"{
  "$evaluators": {
    "is_staff": {"ends_with": [{"var": "email"}, "@example.com"]}
  },
  "metadata": {"version": "fuzz"},
  "flags": {
    "logic-compare": {
      "state": "ENABLED",
      "variants": {"a": "a", "b": "b", "c": "c"},
      "defaultVariant": "c",
      "targeting": {"if": [
        {"and": [{"$ref": "is_staff"}, {"starts_with": [{"var": "name"}, "a"]}]}, "a",
        {"or": [{"==": [{"var": "n"}, 1]}, {"===": [{"var": "n"}, "1"]}, {"!=": [{"var": "m"}, null]}, {"!==": [{"var": "m"}, 2]}]}, "b",
        {"<": [0, {"var": "x"}, 10]}, "a",
        {"<=": [{"var": "x"}, {"var": "y"}]}, "b",
        {">": [{"var": "x"}, {"var": ["y", 3]}]}, "c",
        {">=": [{"var": "y"}, 5]}, "a",
        {"!": {"var": "z"}}, "b",
        {"!!": [{"var": "z"}]}, "c",
        null
      ]}
    },
    "logic-strings": {
      "state": "ENABLED",
      "variants": {"a": 1, "b": 2, "c": 3},
      "defaultVariant": "a",
      "targeting": {"if": [
        {"in": [{"var": "country"}, ["SG", "DE"]]}, "b",
        {"in": [{"substr": [{"var": "name"}, {"var": "start"}, {"var": "length"}]}, {"cat": [{"var": "a"}, "-", {"var": "b"}]}]}, "c",
        {"sem_ver": [{"var": "app_version"}, {"var": ["op", "^"]}, "1.2.0"]}, "b",
        {"var": [{"cat": ["choice.", {"var": "path"}]}, "a"]}
      ]}
    },
    "logic-arrays": {
      "state": "ENABLED",
      "variants": {"a": [1], "b": {"x": 1}, "c": null},
      "defaultVariant": "a",
      "targeting": {"if": [
        {"some": [{"var": "items"}, {">": [{"var": ""}, 3]}]}, "b",
        {"all": [{"filter": [{"var": "items"}, {"%": [{"var": ""}, 2]}]}, {"var": ""}]}, "c",
        {"none": [{"map": [{"var": "items"}, {"*": [{"var": ""}, 2]}]}, {"<": [{"var": ""}, 0]}]}, "a",
        {"==": [{"reduce": [{"var": "items"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}, {"var": "sum"}]}, "b",
        {"missing": [{"merge": [["a", "b"], {"var": "keys"}]}]}, "c",
        {"missing_some": [1, ["x", "y"]]}, "a",
        {"<": [{"-": [{"/": [{"var": "p"}, {"var": "q"}]}, {"min": [{"var": "p"}, 3]}]}, {"max": [{"var": "q"}, 1]}]}, "c",
        null
      ]}
    },
    "logic-fractional": {
      "state": "ENABLED",
      "variants": {"a": true, "b": false},
      "defaultVariant": "b",
      "targeting": {"if": [
        {"var": "bucket"},
        {"fractional": [{"var": "bucket"}, ["a", {"var": ["weight", 50]}], ["b", 50]]},
        {"fractional": [["a", 25], ["b", 75]]}
      ]}
    }
  }
}"#;
