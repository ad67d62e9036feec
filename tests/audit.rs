//! End-to-end tests of `audit`: one violation per rule beside clean neighbours, severities,
//! and the machine-readable formats.

mod common;

use std::collections::BTreeSet;

use common::TestRepo;
use predicates::prelude::*;
use serde_json::Value;

const CONFIG: &str = r#"
[owners.team-a]
contact = "a@example.com"
[owners.team-b]
contact = "b@example.com"
[services.crowded]
max_flags = 2
"#;

/// A flag file: `extra` lines go before `default`; temporary kinds get `dates` as given.
fn flag(kind: &str, owner: &str, dates: &str, extra: &str) -> String {
    format!(
        "description = \"test\"\nkind = \"{kind}\"\nowner = \"{owner}\"\n{dates}\n{extra}\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n"
    )
}

fn live_experiment(extra: &str) -> String {
    flag(
        "experiment",
        "team-a",
        "created = 2026-11-20\nexpires = 2026-12-15",
        extra,
    )
}

fn parameter(extra: &str) -> String {
    flag(
        "parameter",
        "team-a",
        "created = 2026-11-01\nreview_by = 2027-01-15",
        extra,
    )
}

fn rule_matrix() -> TestRepo {
    let repo = TestRepo::initialised();
    repo.write("flagctl.toml", CONFIG);
    let files = [
        (
            "clean/fine-experiment",
            live_experiment("controls = [\"model:solo\"]"),
        ),
        ("clean/fine-parameter", parameter("")),
        (
            "clean/fine-concluded",
            flag(
                "experiment",
                "team-a",
                "created = 2026-11-01\nexpires = 2026-11-10",
                "",
            ) + "\n[conclusion]\ndate = 2026-11-10\nwinner = \"on\"\nremove_by = 2026-12-10\n",
        ),
        ("bad/invalid", live_experiment("").replace("owner", "ownr")),
        ("bad/dup", live_experiment("")),
        ("other/dup", live_experiment("")),
        (
            "bad/unknown-kind",
            live_experiment("").replace("\"experiment\"", "\"experimnt\""),
        ),
        ("bad/no-owner", live_experiment("").replace("team-a", "")),
        (
            "bad/stranger",
            live_experiment("").replace("team-a", "team-z"),
        ),
        (
            "bad/expired",
            flag(
                "experiment",
                "team-a",
                "created = 2026-10-20\nexpires = 2026-11-19",
                "",
            ),
        ),
        (
            "bad/too-long",
            flag(
                "experiment",
                "team-a",
                "created = 2026-11-01\nexpires = 2026-12-20",
                "",
            ),
        ),
        (
            "bad/expiring",
            flag(
                "experiment",
                "team-a",
                "created = 2026-11-01\nexpires = 2026-11-28",
                "",
            ),
        ),
        (
            "bad/review-late",
            flag(
                "kill-switch",
                "team-a",
                "created = 2026-06-01\nreview_by = 2026-08-30",
                "",
            ),
        ),
        (
            "bad/review-far",
            flag(
                "kill-switch",
                "team-a",
                "created = 2026-11-01\nreview_by = 2027-06-01",
                "",
            ),
        ),
        (
            "bad/review-soon",
            flag(
                "kill-switch",
                "team-a",
                "created = 2026-09-01\nreview_by = 2026-11-28",
                "",
            ),
        ),
        (
            "bad/not-removed",
            flag(
                "experiment",
                "team-a",
                "created = 2026-09-20\nexpires = 2026-10-20",
                "",
            ) + "\n[conclusion]\ndate = 2026-10-10\nwinner = \"on\"\nremove_by = 2026-11-09\n",
        ),
        ("crowded/one", parameter("")),
        ("crowded/two", parameter("")),
        (
            "crowded/three",
            flag(
                "parameter",
                "team-a",
                "created = 2026-11-02\nreview_by = 2027-01-15",
                "",
            ),
        ),
        (
            "bad/declared-a",
            parameter("conflicts_with = [\"declared-b\"]"),
        ),
        ("bad/declared-b", parameter("")),
        (
            "bad/shares-a",
            live_experiment("controls = [\"model:shared\"]"),
        ),
        (
            "bad/shares-b",
            live_experiment("controls = [\"model:shared\"]"),
        ),
        (
            "bad/layer-a",
            live_experiment("layer = { name = \"L\", range = [0, 60] }"),
        ),
        (
            "bad/layer-b",
            live_experiment("layer = { name = \"L\", range = [50, 100] }"),
        ),
        (
            "clean/layer-c",
            live_experiment(
                "controls = [\"model:split\"]\nlayer = { name = \"M\", range = [0, 50] }",
            ),
        ),
        (
            "clean/layer-d",
            live_experiment(
                "controls = [\"model:split\"]\nlayer = { name = \"M\", range = [50, 100] }",
            ),
        ),
        (
            "bad/needs-ghost",
            parameter("requires = [{ flag = \"ghost\", variant = \"on\" }]"),
        ),
        (
            "bad/cycle-a",
            parameter("requires = [{ flag = \"cycle-b\", variant = \"on\" }]"),
        ),
        (
            "bad/cycle-b",
            parameter("requires = [{ flag = \"cycle-a\", variant = \"on\" }]"),
        ),
        (
            "bad/leans-on-temporary",
            parameter("requires = [{ flag = \"fine-experiment\", variant = \"on\" }]"),
        ),
    ];
    for (name, text) in files {
        repo.write(&format!("flags/{name}.toml"), &text);
    }
    repo
}

fn audit_json(repo: &TestRepo, extra: &[&str]) -> (Option<i32>, Value) {
    let as_of = if extra.contains(&"--as-of") {
        vec![]
    } else {
        vec!["--as-of", "2026-11-25"]
    };
    let mut args = vec!["audit", "--format", "json"];
    args.extend(as_of);
    args.extend_from_slice(extra);
    let out = repo.flagctl(&args).output().unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), json)
}

fn pairs(json: &Value) -> BTreeSet<(String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["flag"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn each_rule_fires_exactly_where_it_should() {
    let repo = rule_matrix();
    let (code, json) = audit_json(&repo, &[]);
    assert_eq!(code, Some(1));
    let expected: BTreeSet<(String, String)> = [
        ("invalid-flag", "invalid"),
        ("duplicate-key", "dup"),
        ("unknown-kind", "unknown-kind"),
        ("missing-owner", "no-owner"),
        ("unknown-owner", "stranger"),
        ("expired", "expired"),
        ("expiry-too-long", "too-long"),
        ("expiring-soon", "expiring"),
        ("review-overdue", "review-late"),
        ("review-too-far", "review-far"),
        ("review-due-soon", "review-soon"),
        ("removal-overdue", "not-removed"),
        ("service-limit", "three"),
        ("conflict", "declared-a"),
        ("conflict", "shares-b"),
        ("layer-overlap", "layer-b"),
        ("missing-dependency", "needs-ghost"),
        ("dependency-cycle", "cycle-a"),
        ("temporary-dependency", "leans-on-temporary"),
    ]
    .into_iter()
    .map(|(r, f)| (r.to_string(), f.to_string()))
    .collect();
    assert_eq!(pairs(&json), expected);
    let findings = json["findings"].as_array().unwrap();
    let cycle = findings
        .iter()
        .find(|f| f["rule"] == "dependency-cycle")
        .unwrap();
    assert!(
        cycle["message"]
            .as_str()
            .unwrap()
            .contains("cycle-a → cycle-b → cycle-a"),
        "{cycle}"
    );
    let expired = findings.iter().find(|f| f["rule"] == "expired").unwrap();
    assert_eq!(
        expired["message"],
        "experiment expired on 2026-11-19 (6 days ago)"
    );
    assert_eq!(expired["path"], "flags/bad/expired.toml");
    assert_eq!(expired["line"], 5);
    assert_eq!(expired["owner"], "team-a");
    // Sorted by path, line, rule.
    let keys: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn a_concluded_flag_is_never_expired() {
    let repo = rule_matrix();
    let (_, json) = audit_json(&repo, &["--as-of", "2027-03-01"]);
    let found = pairs(&json);
    assert!(!found.contains(&("expired".into(), "fine-concluded".into())));
    assert!(found.contains(&("removal-overdue".into(), "fine-concluded".into())));
}

fn warnings_only() -> TestRepo {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/s/soon.toml",
        &flag(
            "experiment",
            "me@example.com",
            "created = 2026-11-01\nexpires = 2026-11-28",
            "",
        ),
    );
    repo
}

#[test]
fn warnings_alone_pass_unless_denied() {
    let repo = warnings_only();
    let (code, json) = audit_json(&repo, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(json["summary"]["warnings"], 1);
    let (code, json) = audit_json(&repo, &["--deny-warnings"]);
    assert_eq!(code, Some(1));
    assert_eq!(json["findings"][0]["severity"], "error");
    let (code, _) = audit_json(&repo, &["--deny", "expiring-soon"]);
    assert_eq!(code, Some(1));
    let (code, json) = audit_json(&repo, &["--allow", "expiring-soon", "--deny-warnings"]);
    assert_eq!(
        (code, json["findings"].as_array().unwrap().len()),
        (Some(0), 0)
    );
    repo.flagctl(&["--as-of", "2026-11-25", "audit", "--deny", "expiring-son"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `expiring-soon`"));
}

#[test]
fn severities_come_from_the_config_too() {
    let repo = warnings_only();
    repo.write("flagctl.toml", "[severity]\nexpiring-soon = \"error\"\n");
    assert_eq!(audit_json(&repo, &[]).0, Some(1));
    repo.write("flagctl.toml", "[severity]\nexpiring-soon = \"off\"\n");
    assert_eq!(
        audit_json(&repo, &[]).1["findings"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The command line wins over the file.
    assert_eq!(audit_json(&repo, &["--deny", "expiring-soon"]).0, Some(1));
}

#[test]
fn github_annotations_point_at_the_line() {
    let repo = rule_matrix();
    let out = repo
        .flagctl(&["audit", "--format", "github", "--as-of", "2026-11-25"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("::error file=flags/bad/expired.toml,line=5,col=11,title=expired::experiment expired on 2026-11-19")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("::warning file=flags/bad/expiring.toml,line=5,")),
        "{text}"
    );
}

#[test]
fn sarif_is_a_2_1_0_log_with_rule_metadata() {
    let repo = rule_matrix();
    let out = repo
        .flagctl(&["audit", "--format", "sarif", "--as-of", "2026-11-25"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), flagctl::rules::RuleId::ALL.len());
    assert!(rules.iter().all(|r| r["id"].is_string()
        && r["help"]["text"].is_string()
        && r["shortDescription"]["text"].is_string()));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 21);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(["error", "warning"].contains(&result["level"].as_str().unwrap()));
        let location = &result["locations"][0]["physicalLocation"];
        assert!(
            location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("flags/")
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn junit_has_a_case_per_flag_and_a_failure_per_error() {
    use quick_xml::Reader;
    use quick_xml::events::Event;

    let repo = rule_matrix();
    let out = repo
        .flagctl(&["audit", "--format", "junit", "--as-of", "2026-11-25"])
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    let mut reader = Reader::from_str(&xml);
    let (mut cases, mut failures, mut depth) = (0, 0, 0i32);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                depth += 1;
                match e.name().as_ref() {
                    "testcase" => cases += 1,
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            Event::Empty(e) if e.name().as_ref() == "testcase" => cases += 1,
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    assert_eq!(cases, 31);
    let (_, json) = audit_json(&repo, &[]);
    assert_eq!(failures, json["summary"]["errors"].as_u64().unwrap());
}

#[test]
fn human_output_points_into_files_and_sums_up() {
    let repo = rule_matrix();
    repo.flagctl(&["audit", "--as-of", "2026-11-25"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains(
                "error[expired]: experiment expired on 2026-11-19 (6 days ago)",
            )
            .and(predicate::str::contains("flags/bad/expired.toml:5:11"))
            .and(predicate::str::contains("SERVICE"))
            .and(predicate::str::contains(
                "18 errors, 3 warnings in 31 flag files",
            )),
        );
}
