//! The flagd evaluator conformance suite (open-feature/flagd-testbed, `evaluator/`), run
//! against the engine. The suite lives outside the project: `FLAGCTL_CONFORMANCE_DIR`
//! names its folder (with `flags/testkit-flags.json` and `gherkin/*.feature`).
//!
//! Each scenario, and each example row of an outline, is a test of its own, named
//! `FILE: SCENARIO [EXAMPLES: | ROW |]`. Those tagged `@fractional-v3` run with the v3
//! bucketing (canonical CBOR), the others with v2, flagd's current one; those tagged
//! `@fractional-v1`, a bucketing flagd no longer has, are reported as ignored.
//!
//! Without the suite, one test, `suite_missing`, says how to run it: it is ignored on a
//! developer's machine and fails in CI (`CI` set), where a suite that cannot run must not
//! pass as run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use flagctl::eval::{Context, FlagSet, FlagType, Fractional, TypedResolution};
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use serde_json::{Map, Value};

const SKIPPED_TAGS: [&str; 1] = ["@fractional-v1"];

/// Scenarios of the v3 bucketing.
const V3_TAG: &str = "@fractional-v3";

const DIR_VAR: &str = "FLAGCTL_CONFORMANCE_DIR";

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let trials = match suite_dir() {
        Ok(dir) => scenarios(&dir),
        Err(why) => vec![suite_missing(why)],
    };
    libtest_mimic::run(&args, trials).exit_code()
}

/// The suite's folder, or why there is none.
fn suite_dir() -> Result<PathBuf, String> {
    let dir = std::env::var_os(DIR_VAR).ok_or_else(|| format!("{DIR_VAR} is not set"))?;
    let dir = PathBuf::from(dir);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("{DIR_VAR}={} is not a folder", dir.display()))
    }
}

fn suite_missing(why: String) -> Trial {
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    Trial::ignorable_test("suite_missing", move || {
        let how = format!(
            "set {DIR_VAR} to the flagd evaluator suite (shared/conformance/flagd-evaluator), as .ci/run does"
        );
        if in_ci {
            Err(format!("{why}: the conformance suite cannot run in CI; {how}").into())
        } else {
            Ok(Completion::ignored_with(format!("{why}; {how}")))
        }
    })
}

/// A test for each scenario of the suite at `dir`; a failing one for each part of the suite
/// that cannot be read.
fn scenarios(dir: &Path) -> Vec<Trial> {
    let broken = |name: &str, message: String| Trial::test(name, move || Err(message.into()));
    let flags_path = dir.join("flags/testkit-flags.json");
    let set = match fs::read_to_string(&flags_path)
        .map_err(|e| format!("cannot read {}: {e}", flags_path.display()))
        .and_then(|text| {
            FlagSet::from_flagd_json(&text)
                .map_err(|e| format!("cannot load {}: {e:#}", flags_path.display()))
        }) {
        Ok(set) => Arc::new(set),
        Err(message) => return vec![broken("testkit-flags.json", message)],
    };
    let set_v3 = {
        let mut v3 = (*set).clone();
        v3.set_fractional(Fractional::V3);
        Arc::new(v3)
    };
    let features = match fs::read_dir(dir.join("gherkin")) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|entry| Some(entry.ok()?.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "feature"))
                .collect();
            paths.sort();
            paths
        }
        Err(e) => {
            let message = format!("cannot list {}/gherkin: {e}", dir.display());
            return vec![broken("gherkin", message)];
        }
    };

    let mut trials = Vec::new();
    for path in &features {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let feature = fs::read_to_string(path)
            .map_err(|e| format!("cannot read {file}: {e}"))
            .and_then(|text| parse_feature(&text).map_err(|e| format!("cannot parse {file}: {e}")));
        let feature = match feature {
            Ok(feature) => feature,
            Err(message) => {
                trials.push(broken(&file, message));
                continue;
            }
        };
        for case in feature.cases() {
            let name = format!("{file}: {}", case.name);
            let skipped_by = case
                .tags
                .iter()
                .find(|tag| SKIPPED_TAGS.contains(&tag.as_str()))
                .cloned();
            let set = if case.tags.iter().any(|tag| tag == V3_TAG) {
                Arc::clone(&set_v3)
            } else {
                Arc::clone(&set)
            };
            trials.push(Trial::ignorable_test(name, move || match skipped_by {
                Some(tag) => Ok(Completion::ignored_with(format!(
                    "{tag}: not the bucketing flagd uses"
                ))),
                None => run(&set, &case.steps)
                    .map(|()| Completion::Completed)
                    .map_err(Failed::from),
            }));
        }
    }
    if trials.is_empty() {
        let message = format!("no scenario found under {}", dir.display());
        trials.push(broken("suite_has_scenarios", message));
    }
    trials
}

// ---- Running a scenario -------------------------------------------------------------

/// What the steps of one scenario build up.
#[derive(Default)]
struct World {
    request: Option<(FlagType, String, Value)>,
    context: Context,
    result: Option<TypedResolution>,
}

fn run(set: &FlagSet, steps: &[Step]) -> Result<(), String> {
    let mut world = World::default();
    for step in steps {
        run_step(set, &mut world, step).map_err(|e| format!("{}: {e}", step.text))?;
    }
    Ok(())
}

fn run_step(set: &FlagSet, world: &mut World, step: &Step) -> Result<(), String> {
    let text = step.text.as_str();
    if text == "an evaluator" {
        return Ok(());
    }
    if let Some([kind, key, fallback]) = scan(
        text,
        [
            "a ",
            "-flag with key \"",
            "\" and a fallback value \"",
            "\"",
        ],
    ) {
        let flag_type =
            FlagType::from_name(kind).ok_or_else(|| format!("unknown flag type {kind}"))?;
        world.request = Some((flag_type, key.to_owned(), typed_value(kind, fallback)?));
        return Ok(());
    }
    if let Some([key, kind, value]) = scan(
        text,
        [
            "a context containing a key \"",
            "\", with type \"",
            "\" and with value \"",
            "\"",
        ],
    ) {
        world
            .context
            .insert(key.to_owned(), typed_value(kind, value)?);
        return Ok(());
    }
    if let Some([outer, inner, value]) = scan(
        text,
        [
            "a context containing a nested property with outer key \"",
            "\" and inner key \"",
            "\", with value \"",
            "\"",
        ],
    ) {
        let mut nested = Map::new();
        nested.insert(inner.to_owned(), Value::from(value));
        world
            .context
            .insert(outer.to_owned(), Value::Object(nested));
        return Ok(());
    }
    if let Some([key]) = scan(
        text,
        ["a context containing a targeting key with value \"", "\""],
    ) {
        world
            .context
            .insert("targetingKey".to_owned(), Value::from(key));
        return Ok(());
    }
    if text == "the flag was evaluated with details" {
        let (flag_type, key, fallback) = world.request.clone().ok_or("no flag was given")?;
        world.result = Some(set.resolve_typed(&key, flag_type, fallback, &world.context));
        return Ok(());
    }
    let result = world.result.as_ref().ok_or("the flag was not evaluated")?;
    if let Some([expected]) = scan(text, ["the resolved details value should be \"", "\""]) {
        let (flag_type, _, _) = world.request.as_ref().ok_or("no flag was given")?;
        let expected = typed_value(flag_type.name(), expected)?;
        return check(same_value(&result.value, &expected), &expected, result);
    }
    if let Some([expected]) = scan(text, ["the reason should be \"", "\""]) {
        return check(result.reason.as_str() == expected, expected, result);
    }
    if let Some([expected]) = scan(text, ["the error-code should be \"", "\""]) {
        let code = result.error.as_ref().map(|error| error.code.as_str());
        return check(code == Some(expected), expected, result);
    }
    if text == "the resolved metadata is empty" {
        return check(result.metadata.is_empty(), "no metadata", result);
    }
    if text == "the resolved metadata should contain" {
        let (header, rows) = step.table.split_first().ok_or("the step has no table")?;
        let column = |name: &str| {
            header
                .iter()
                .position(|cell| cell == name)
                .ok_or(format!("the table has no {name} column"))
        };
        let (key, kind, value) = (column("key")?, column("metadata_type")?, column("value")?);
        for row in rows {
            let expected = typed_value(&row[kind], &row[value])?;
            let actual = result.metadata.get(&row[key]);
            if !actual.is_some_and(|actual| same_value(actual, &expected)) {
                return Err(format!(
                    "metadata {} should be {expected}, got {actual:?}",
                    row[key]
                ));
            }
        }
        return Ok(());
    }
    Err("unsupported step".to_owned())
}

fn check(
    holds: bool,
    expected: impl std::fmt::Display,
    result: &TypedResolution,
) -> Result<(), String> {
    if holds {
        Ok(())
    } else {
        Err(format!("expected {expected}, got {result:?}"))
    }
}

/// Equal as JSON, with numbers compared by value (`0.0` equals `0`).
fn same_value(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => actual == expected,
    }
}

/// A table cell or step argument read as the named type.
fn typed_value(kind: &str, text: &str) -> Result<Value, String> {
    let bad = |e: &dyn std::fmt::Display| format!("{text:?} is not a {kind}: {e}");
    Ok(match kind {
        "String" => Value::from(text),
        "Boolean" => Value::Bool(text.parse::<bool>().map_err(|e| bad(&e))?),
        "Integer" => Value::from(text.parse::<i64>().map_err(|e| bad(&e))?),
        "Float" => Value::from(text.parse::<f64>().map_err(|e| bad(&e))?),
        "Object" => serde_json::from_str(text).map_err(|e| bad(&e))?,
        other => return Err(format!("unknown value type {other}")),
    })
}

/// Matches `text` against literal pieces with a capture between each pair: the first
/// piece is a prefix, the last a suffix, the others are found left to right.
fn scan<'t, const N: usize, const P: usize>(
    text: &'t str,
    pieces: [&str; P],
) -> Option<[&'t str; N]> {
    debug_assert_eq!(P, N + 1);
    let (last, middle) = pieces[1..].split_last()?;
    let mut rest = text.strip_prefix(pieces[0])?.strip_suffix(last)?;
    let mut captures = [""; N];
    for (capture, piece) in captures.iter_mut().zip(middle) {
        let (before, after) = rest.split_once(piece)?;
        *capture = before;
        rest = after;
    }
    captures[N - 1] = rest;
    Some(captures)
}

// ---- A small Gherkin reader ---------------------------------------------------------

struct Feature {
    tags: Vec<String>,
    background: Vec<Step>,
    scenarios: Vec<Scenario>,
}

struct Scenario {
    name: String,
    tags: Vec<String>,
    steps: Vec<Step>,
    examples: Vec<Examples>,
}

struct Examples {
    name: String,
    tags: Vec<String>,
    table: Vec<Vec<String>>,
}

#[derive(Clone)]
struct Step {
    text: String,
    table: Vec<Vec<String>>,
}

/// One runnable scenario: an outline expanded for one example row.
struct Case {
    name: String,
    tags: Vec<String>,
    steps: Vec<Step>,
}

impl Feature {
    fn cases(&self) -> Vec<Case> {
        let mut cases = Vec::new();
        for scenario in &self.scenarios {
            let tags: Vec<String> = self.tags.iter().chain(&scenario.tags).cloned().collect();
            let steps = || self.background.iter().chain(&scenario.steps);
            if scenario.examples.is_empty() {
                cases.push(Case {
                    name: scenario.name.clone(),
                    tags,
                    steps: steps().cloned().collect(),
                });
                continue;
            }
            for examples in &scenario.examples {
                let Some((header, rows)) = examples.table.split_first() else {
                    continue;
                };
                for row in rows {
                    let fill = |text: &str| {
                        header
                            .iter()
                            .zip(row)
                            .fold(text.to_owned(), |text, (name, value)| {
                                text.replace(&format!("<{name}>"), value)
                            })
                    };
                    let examples_name = match examples.name.as_str() {
                        "" => String::new(),
                        name => format!("{name}: "),
                    };
                    cases.push(Case {
                        name: format!("{} [{examples_name}| {} |]", scenario.name, row.join(" | ")),
                        tags: tags.iter().chain(&examples.tags).cloned().collect(),
                        steps: steps()
                            .map(|step| Step {
                                text: fill(&step.text),
                                table: step
                                    .table
                                    .iter()
                                    .map(|cells| cells.iter().map(|cell| fill(cell)).collect())
                                    .collect(),
                            })
                            .collect(),
                    });
                }
            }
        }
        cases
    }
}

fn parse_feature(text: &str) -> Result<Feature, String> {
    let mut feature = Feature {
        tags: Vec::new(),
        background: Vec::new(),
        scenarios: Vec::new(),
    };
    let mut pending_tags: Vec<String> = Vec::new();
    // Where steps and tables go: the background, a scenario's steps, or its examples.
    #[derive(PartialEq)]
    enum Section {
        None,
        Background,
        Scenario,
        Examples,
    }
    let mut section = Section::None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        let at = |message: &str| format!("line {}: {message}", number + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('@') {
            pending_tags.extend(line.split_whitespace().map(str::to_owned));
            continue;
        }
        if line.starts_with("Feature:") {
            feature.tags = std::mem::take(&mut pending_tags);
            continue;
        }
        if line.starts_with("Background:") {
            section = Section::Background;
            continue;
        }
        if let Some(name) = [
            "Scenario Outline:",
            "Scenario Template:",
            "Scenario:",
            "Example:",
        ]
        .iter()
        .find_map(|keyword| line.strip_prefix(keyword))
        {
            feature.scenarios.push(Scenario {
                name: name.trim().to_owned(),
                tags: std::mem::take(&mut pending_tags),
                steps: Vec::new(),
                examples: Vec::new(),
            });
            section = Section::Scenario;
            continue;
        }
        if let Some(name) = ["Examples:", "Scenarios:"]
            .iter()
            .find_map(|keyword| line.strip_prefix(keyword))
        {
            let scenario = feature
                .scenarios
                .last_mut()
                .ok_or_else(|| at("Examples outside a scenario"))?;
            scenario.examples.push(Examples {
                name: name.trim().to_owned(),
                tags: std::mem::take(&mut pending_tags),
                table: Vec::new(),
            });
            section = Section::Examples;
            continue;
        }
        if line.starts_with('|') {
            let row = table_row(line);
            let table = match section {
                Section::Examples => feature
                    .scenarios
                    .last_mut()
                    .and_then(|s| s.examples.last_mut())
                    .map(|e| &mut e.table),
                Section::Background => feature.background.last_mut().map(|step| &mut step.table),
                Section::Scenario => feature
                    .scenarios
                    .last_mut()
                    .and_then(|s| s.steps.last_mut())
                    .map(|step| &mut step.table),
                Section::None => None,
            };
            table
                .ok_or_else(|| at("a table row without a step or examples"))?
                .push(row);
            continue;
        }
        let Some(step) = ["Given ", "When ", "Then ", "And ", "But ", "* "]
            .iter()
            .find_map(|keyword| line.strip_prefix(keyword))
        else {
            return Err(at(&format!("unrecognised line {line:?}")));
        };
        let step = Step {
            text: step.trim().to_owned(),
            table: Vec::new(),
        };
        match section {
            Section::Background => feature.background.push(step),
            Section::Scenario => feature
                .scenarios
                .last_mut()
                .ok_or_else(|| at("a step outside a scenario"))?
                .steps
                .push(step),
            Section::None | Section::Examples => return Err(at("a step outside a scenario")),
        }
    }
    Ok(feature)
}

/// The cells of `| a | b |`, with `\|`, `\\`, `\n` and the suite's `\"` unescaped.
fn table_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => cell.push('\n'),
                Some(escaped) => cell.push(escaped),
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            other => cell.push(other),
        }
    }
    cells
}
