//! Hostile shapes of flag files — a chain or a cycle of 10,000 prerequisites, a diamond
//! of 30, 40 flags each requiring the next four, flagd `$evaluators` each referring to the
//! next twice — through audit, eval, export and simulate: each command finishes with a
//! clear finding or error, and what it writes stays small. Every run has a generous
//! timeout; the point is that nothing hangs, not how fast it is.

mod common;

use std::path::Path;
use std::time::Duration;

use assert_cmd::assert::Assert;
use serde_json::{Value, json};

/// Far beyond what any of these takes: a hang, not a slow machine, exceeds it.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The most any command may print here: the audit of 10,000 flags, each with a finding.
const MAX_OUTPUT: usize = 10_000_000;

/// The most an exported file may weigh here.
const MAX_EXPORT: u64 = 1_000_000;

/// A repository of kill switches `f00000`, `f00001`, … in one service, each requiring
/// the `width` flags after it to be `on` (with `wrap`, the last ones require the first
/// ones), and serving `on` in SG.
fn shape(count: usize, width: usize, wrap: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flagctl.toml"),
        "[policy]\nmax_flags_per_service = 100000\n",
    )
    .unwrap();
    let flags = dir.path().join("flags/s");
    std::fs::create_dir_all(&flags).unwrap();
    for i in 0..count {
        let requires: Vec<String> = (i + 1..=i + width)
            .filter(|j| wrap || *j < count)
            .map(|j| format!("{{ flag = \"f{:05}\", variant = \"on\" }}", j % count))
            .collect();
        let text = format!(
            "description = \"shape\"\nkind = \"kill-switch\"\nowner = \"@ml\"\ncreated = 2026-11-01\n\
             review_by = 2027-01-15\nrequires = [{}]\ndefault = \"off\"\n[variants]\noff = false\non = true\n\
             [[rules]]\nwhen = [{{ attr = \"country\", eq = \"SG\" }}]\nserve = \"on\"\n",
            requires.join(", ")
        );
        std::fs::write(flags.join(format!("f{i:05}.toml")), text).unwrap();
    }
    dir
}

/// `flagctl --repo DIR ARGS…` under the timeout, its output bounded.
fn run(dir: &Path, args: &[&str]) -> Assert {
    let mut with_repo = vec!["--repo", dir.to_str().unwrap()];
    with_repo.extend(args);
    let assert = common::flagctl(&with_repo).timeout(TIMEOUT).assert();
    let output = assert.get_output();
    assert!(
        output.stdout.len() + output.stderr.len() < MAX_OUTPUT,
        "{args:?} printed {} bytes",
        output.stdout.len() + output.stderr.len()
    );
    assert
}

fn stdout_json(assert: &Assert) -> Value {
    serde_json::from_slice(&assert.get_output().stdout).unwrap()
}

fn stderr(assert: &Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// [`shape`], whose audit fails with `times` findings of `rule` and nothing else.
fn audited(count: usize, width: usize, wrap: bool, rule: &str, times: usize) -> tempfile::TempDir {
    let repo = shape(count, width, wrap);
    let audit = run(repo.path(), &["audit", "--format", "json"]).code(1);
    let report = stdout_json(&audit);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap())
        .collect();
    assert!(rules.iter().all(|fired| *fired == rule), "{rules:?}");
    assert_eq!(rules.len(), times);
    repo
}

/// The message of the error `eval KEY` fails with.
fn eval_error(dir: &Path, key: &str) -> String {
    let (reason, message) = eval(dir, key);
    assert_eq!(reason, "ERROR", "{key}");
    message
}

/// The reason of each flag's evaluation by `eval --all`.
fn eval_all(dir: &Path) -> Vec<String> {
    let all = run(
        dir,
        &["eval", "--all", "--ctx", "country=SG", "--format", "json"],
    )
    .success();
    stdout_json(&all)["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["reason"].as_str().unwrap().to_owned())
        .collect()
}

/// `eval KEY` in JSON: the reason and the error message, if any.
fn eval(dir: &Path, key: &str) -> (String, String) {
    let result = stdout_json(
        &run(
            dir,
            &["eval", key, "--ctx", "country=SG", "--format", "json"],
        )
        .success(),
    );
    let message = result["error"]["message"].as_str().unwrap_or_default();
    (
        result["reason"].as_str().unwrap().to_owned(),
        message.to_owned(),
    )
}

/// `export --verify` refuses, writing nothing, and says why.
fn export_refused(dir: &Path, why: &str) {
    let out = dir.join("flags.flagd.json");
    let export = run(
        dir,
        &["export", "--verify", "200", "-o", out.to_str().unwrap()],
    )
    .code(2);
    let err = stderr(&export);
    assert!(err.contains(why), "{err}");
    assert!(err.contains("flagctl audit"), "{err}");
    assert!(!out.exists());
}

/// `simulate KEY --sample N` fails at once, saying why.
fn simulate_refused(dir: &Path, key: &str, why: &str) {
    let simulate = run(dir, &["simulate", key, "--sample", "100000", "--seed", "1"]).code(2);
    let err = stderr(&simulate);
    assert!(
        err.contains("cannot be evaluated") && err.contains(why),
        "{err}"
    );
}

#[test]
fn a_chain_of_10000_is_too_deep_everywhere_but_its_end() {
    let repo = audited(10_000, 1, false, "dependency-depth", 9983);
    let dir = repo.path();
    let message = eval_error(dir, "f00000");
    assert!(
        message.contains(
            "nest 9999 levels deep (f00000 → f00001 → f00002 → … → f09999 (10000 flags))"
        ),
        "{message}"
    );
    assert_eq!(eval(dir, "f09983").0, "TARGETING_MATCH");
    let reasons = eval_all(dir);
    assert_eq!(reasons.iter().filter(|r| *r == "ERROR").count(), 9983);
    export_refused(dir, "its `requires` nest 9999 levels deep");
    simulate_refused(dir, "f00000", "nest 9999 levels deep");
    run(
        dir,
        &["simulate", "f09990", "--sample", "100000", "--seed", "1"],
    )
    .success();
}

#[test]
fn a_cycle_of_10000_is_one_finding_and_an_error() {
    let repo = audited(10_000, 1, true, "dependency-cycle", 1);
    let dir = repo.path();
    assert_eq!(
        eval_error(dir, "f05000"),
        "prerequisites form a cycle (f00000 → f00001 → f00002 → … → f00000 (10000 flags))"
    );
    export_refused(dir, "prerequisites form a cycle");
    simulate_refused(dir, "f00000", "cycle");
}

#[test]
fn a_diamond_of_30_is_too_wide_at_its_top() {
    // Each requires the next two: f00000's requires unfold into millions of paths.
    let repo = audited(30, 2, false, "dependency-depth", 22);
    let dir = repo.path();
    let message = eval_error(dir, "f00013");
    assert!(
        message.contains("fan out into 4179 prerequisites"),
        "{message}"
    );
    assert_eq!(eval(dir, "f00022").0, "TARGETING_MATCH");
    export_refused(dir, "flagctl evaluates and exports at most");
    simulate_refused(dir, "f00000", "levels deep");
}

#[test]
fn forty_flags_requiring_the_next_four_evaluate_at_once() {
    let repo = audited(40, 4, false, "dependency-depth", 33);
    let dir = repo.path();
    let reasons = eval_all(dir);
    assert_eq!(reasons.iter().filter(|r| *r == "ERROR").count(), 33);
    assert_eq!(
        reasons.iter().filter(|r| *r == "TARGETING_MATCH").count(),
        7
    );
    export_refused(dir, "flagctl evaluates and exports at most");
}

#[test]
fn shapes_within_the_bounds_export_small_and_verify() {
    // A chain 16 deep, and flags each requiring the next two, 53 prerequisites unfolded.
    for (count, width) in [(17, 1), (8, 2)] {
        let repo = shape(count, width, false);
        let dir = repo.path();
        let out = dir.join("flags.flagd.json");
        let export = run(
            dir,
            &["export", "--verify", "500", "-o", out.to_str().unwrap()],
        )
        .success();
        assert!(
            stderr(&export).contains("verified: 500 contexts"),
            "{}",
            stderr(&export)
        );
        let size = std::fs::metadata(&out).unwrap().len();
        assert!(size < MAX_EXPORT, "{count}×{width}: {size} bytes");
        let served = run(
            dir,
            &[
                "eval",
                "--flagd",
                out.to_str().unwrap(),
                "f00000",
                "--ctx",
                "country=SG",
                "--format",
                "json",
            ],
        )
        .success();
        assert_eq!(stdout_json(&served)["variant"], json!("on"));
        assert_eq!(eval(dir, "f00000").0, "TARGETING_MATCH");
    }
}

/// A flagd file whose flag `f` is on when `e0` holds; each evaluator is the `or` of two
/// references to the next, and the last compares `x` with 1.
fn fanning_evaluators(dir: &Path, levels: usize) -> String {
    let mut evaluators = serde_json::Map::new();
    for level in 0..levels {
        let next = json!({"$ref": format!("e{}", level + 1)});
        evaluators.insert(format!("e{level}"), json!({"or": [next, next]}));
    }
    evaluators.insert(format!("e{levels}"), json!({"==": [{"var": "x"}, 1]}));
    let document = json!({
        "flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false},
                        "defaultVariant": "off", "targeting": {"if": [{"$ref": "e0"}, "on", "off"]}}},
        "$evaluators": evaluators,
    });
    let path = dir.join(format!("refs-{levels}.json"));
    std::fs::write(&path, document.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn evaluators_that_refer_to_the_next_twice_load_and_evaluate_at_once() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    let file = fanning_evaluators(dir, 30);
    assert!(
        std::fs::metadata(&file).unwrap().len() < 2_000,
        "a small file"
    );
    for (x, variant) in [("1", "on"), ("2", "off")] {
        let result = run(
            dir,
            &[
                "eval",
                "--flagd",
                &file,
                "f",
                "--ctx",
                &format!("x:={x}"),
                "--format",
                "json",
            ],
        )
        .success();
        assert_eq!(stdout_json(&result)["variant"], json!(variant));
    }
    let file = fanning_evaluators(dir, 40);
    let refused = run(dir, &["eval", "--flagd", &file, "f"]).code(2);
    assert!(
        stderr(&refused).contains("`$ref`s nest more than 32 deep"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn simulate_samples_at_most_ten_million() {
    let repo = shape(1, 0, false);
    let refused = run(repo.path(), &["simulate", "f00000", "--sample", "10000001"]).code(2);
    assert!(
        stderr(&refused).contains("10000001 is not in 1..=10000000"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn export_verify_is_capped() {
    common::on_example(&["export", "--verify", "1000001"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("1..=1000000"));
}
