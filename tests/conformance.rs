//! The flagd evaluator conformance suite (open-feature/flagd-testbed, `evaluator/`), run
//! against the engine. The suite lives outside the project: `FLAGCTL_CONFORMANCE_DIR`
//! names its folder (with `flags/testkit-flags.json` and `gherkin/*.feature`).
//!
//! Every scenario runs except those tagged `@fractional-v1` / `@fractional-v3`, other
//! bucketing algorithms than the v2 flagd uses today.

#![allow(clippy::disallowed_macros)] // reports how many scenarios ran

use std::fs;
use std::path::Path;

use flagctl::eval::{Context, FlagSet, FlagType, TypedResolution};
use serde_json::{Map, Value};

const SKIPPED_TAGS: [&str; 2] = ["@fractional-v1", "@fractional-v3"];

#[test]
fn flagd_evaluator_conformance() {
    let Some(dir) = std::env::var_os("FLAGCTL_CONFORMANCE_DIR") else {
        eprintln!("skipped: FLAGCTL_CONFORMANCE_DIR not set");
        return;
    };
    let dir = Path::new(&dir);
    assert!(
        dir.is_dir(),
        "FLAGCTL_CONFORMANCE_DIR is set to {}, which is not a folder",
        dir.display()
    );
    let flags_path = dir.join("flags/testkit-flags.json");
    let flags = fs::read_to_string(&flags_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", flags_path.display()));
    let set = FlagSet::from_flagd_json(&flags)
        .unwrap_or_else(|e| panic!("cannot load {}: {e:#}", flags_path.display()));

    let mut features: Vec<_> = fs::read_dir(dir.join("gherkin"))
        .unwrap_or_else(|e| panic!("cannot list {}/gherkin: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "feature"))
        .collect();
    features.sort();

    let (mut ran, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for path in &features {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        let feature = parse_feature(&text).unwrap_or_else(|e| panic!("cannot parse {file}: {e}"));
        for case in feature.cases() {
            if case
                .tags
                .iter()
                .any(|tag| SKIPPED_TAGS.contains(&tag.as_str()))
            {
                skipped += 1;
                continue;
            }
            ran += 1;
            if let Err(message) = run(&set, &case.steps) {
                failures.push(format!("{file}: {}: {message}", case.name));
            }
        }
    }
    println!(
        "conformance: {ran} scenarios run, {} passed, {} failed, {skipped} skipped by tag",
        ran - failures.len(),
        failures.len()
    );
    assert!(ran > 0, "no scenario found under {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} of {ran} conformance scenarios failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
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
                    cases.push(Case {
                        name: format!(
                            "{} [examples {:?}: | {} |]",
                            scenario.name,
                            examples.name,
                            row.join(" | ")
                        ),
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
