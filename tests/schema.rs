//! Real outputs against the published JSON Schema (schema/flagctl-output.schema.json,
//! which a unit test of the binary keeps in step with the output types).

mod common;

use common::{TestRepo, experiment, on_example};
use serde_json::{Value, json};

/// The checked-in schema narrowed to one command's definition.
fn validator(definition: &str) -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/flagctl-output.schema.json"
    );
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        schema["$defs"].get(definition).is_some(),
        "no definition {definition}"
    );
    schema["anyOf"] = json!([{ "$ref": format!("#/$defs/{definition}") }]);
    jsonschema::validator_for(&schema).unwrap()
}

/// Checks each JSON document of `text` (one, or one per line) against `definition`.
fn assert_fits(definition: &str, text: &str) {
    let validator = validator(definition);
    let documents: Vec<Value> = if definition == "eval-line" {
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    } else {
        vec![serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))]
    };
    assert!(!documents.is_empty());
    for document in documents {
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{definition}: {errors:#?}\n{document:#}");
    }
}

fn stdout(mut cmd: assert_cmd::Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

#[test]
fn outputs_of_the_example_fit_the_schema() {
    let json = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        stdout(on_example(&all))
    };
    assert_fits("findings", &json(&["audit"]));
    assert_fits("findings", &json(&["validate"]));
    assert_fits(
        "eval",
        &json(&[
            "eval",
            "ranker-v2",
            "--explain",
            "--ctx",
            "country=SG",
            "--targeting-key",
            "u-2",
        ]),
    );
    assert_fits(
        "eval-all",
        &json(&["eval", "--all", "--targeting-key", "u-2"]),
    );
    assert_fits(
        "simulate",
        &json(&[
            "simulate",
            "ranker-v2",
            "--sample",
            "500",
            "--seed",
            "7",
            "--attr",
            "country=SG,US",
        ]),
    );
    assert_fits("error", &json(&["eval", "no-such-flag"]));
}

#[test]
fn outputs_of_a_test_repository_fit_the_schema() {
    let repo = TestRepo::new();
    let init = stdout(repo.flagctl(&["init", "--format", "json"]));
    assert_fits("init", &init);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "init"]);
    let create: Vec<&str> = "create ranker-v2 --kind experiment --service ranking \
         --owner me@example.com --description A/B --format json --as-of 2026-11-01"
        .split_whitespace()
        .collect();
    let created = stdout(repo.flagctl(&create));
    assert_fits("create", &created);
    let killed = stdout(repo.flagctl(&[
        "kill",
        "ranker-v2",
        "--reason",
        "INC-1",
        "--format",
        "json",
        "--as-of",
        "2026-11-02",
    ]));
    assert_fits("lifecycle", &killed);
    assert_fits(
        "history",
        &stdout(repo.flagctl(&["history", "ranker-v2", "--format", "json"])),
    );
    repo.write(
        "flags/ranking/other.toml",
        &experiment("me@example.com", "2026-11-01", "2026-11-20"),
    );
    repo.write(
        "contexts.jsonl",
        "{\"targetingKey\": \"a\"}\n{\"targetingKey\": \"b\"}\n",
    );
    assert_fits(
        "eval-line",
        &stdout(repo.flagctl(&[
            "eval",
            "--all",
            "--contexts",
            "contexts.jsonl",
            "--format",
            "json",
        ])),
    );
    assert_fits(
        "export",
        &stdout(repo.flagctl(&["export", "--verify", "50", "--format", "json"])),
    );
    // Code that read a flag until a commit removed the read, and a change that adds one.
    repo.write(
        "src/app.py",
        "on = client.get_boolean_value(\"ranker-v2\", False)\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "read ranker-v2"]);
    repo.write("src/app.py", "on = False\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "stop reading ranker-v2"]);
    let refs = stdout(repo.flagctl(&["refs", "--format", "json"]));
    let parsed: Value = serde_json::from_str(&refs).unwrap();
    assert_eq!(
        parsed["flags"][1]["last_use_removed"]["summary"],
        "stop reading ranker-v2"
    );
    assert_fits("refs", &refs);
    repo.write(
        "src/app.py",
        "on = client.get_boolean_value(\"other\", False)\n",
    );
    let diff = stdout(repo.flagctl(&["refs", "--base", "HEAD~1", "--format", "json"]));
    let parsed: Value = serde_json::from_str(&diff).unwrap();
    assert_eq!(parsed["added"][0]["flag"], "other", "{diff}");
    assert_fits("refs-base", &diff);
    repo.write("flagctl.toml", "[policy]\nwarn_dayz = 3\n");
    assert_fits(
        "findings",
        &stdout(repo.flagctl(&["audit", "--format", "json"])),
    );
    assert_fits(
        "error",
        &stdout(repo.flagctl(&["history", "x", "--format", "json"])),
    );
}

#[test]
fn report_and_bulk_archive_fit_the_schema() {
    assert_fits(
        "report",
        &stdout(on_example(&["report", "--format", "json"])),
    );
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "");
    let concluded = |created| {
        experiment("me@example.com", created, "2026-09-30")
            + "\n[conclusion]\ndate = 2026-09-20\nwinner = \"on\"\nremove_by = 2026-10-20\n"
    };
    repo.write("flags/s/a.toml", &concluded("2026-09-01"));
    repo.write("flags/s/b.toml", &concluded("2026-09-02"));
    repo.commit_all_at("flags", "2026-09-20");
    let report = stdout(repo.flagctl(&["report", "--refs", "--format", "json"]));
    assert_fits("report", &report);
    assert!(report.contains("\"ready-to-archive\""), "{report}");
    assert_fits(
        "dry-run",
        &stdout(repo.flagctl(&["archive", "a", "--dry-run", "--format", "json"])),
    );
    assert_fits(
        "lifecycle-many",
        &stdout(repo.flagctl(&["archive", "--ready", "--format", "json"])),
    );
    assert!(repo.path().join("flags/_archive/s/b.toml").exists());
}
