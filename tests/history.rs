//! Git history as evidence: --rev, --base, created-mismatch, history and show.

mod common;

use common::{TestRepo, experiment};
use predicates::prelude::*;
use serde_json::Value;

fn audit(repo: &TestRepo, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["audit", "--format", "json", "--as-of", "2026-11-25"];
    all.extend_from_slice(args);
    let out = repo.flagctl(&all).output().unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), json)
}

fn rules_of(json: &Value, flag: &str) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["flag"] == flag)
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_forward_dated_flag_is_caught_even_after_a_move() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/ranking/late.toml",
        &experiment("me@example.com", "2026-11-15", "2026-12-10"),
    );
    repo.write(
        "flags/ranking/honest.toml",
        &experiment("me@example.com", "2026-11-01", "2026-11-30"),
    );
    repo.commit_all_at("add flags", "2026-11-01");
    let (_, json) = audit(&repo, &[]);
    assert_eq!(rules_of(&json, "late"), ["created-mismatch"]);
    assert!(!rules_of(&json, "honest").contains(&"created-mismatch".to_string()));
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == "late")
        .unwrap();
    assert_eq!(finding["line"], 4);
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .starts_with("created 2026-11-15 is later than 2026-11-01"),
        "{finding}"
    );

    std::fs::create_dir_all(repo.path().join("flags/search")).unwrap();
    repo.git(&["mv", "flags/ranking/late.toml", "flags/search/late.toml"]);
    repo.commit_all_at("move late to search", "2026-11-20");
    let (_, json) = audit(&repo, &[]);
    assert_eq!(rules_of(&json, "late"), ["created-mismatch"]);
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == "late")
        .unwrap();
    assert_eq!(finding["path"], "flags/search/late.toml");
}

#[test]
fn a_reused_key_is_dated_from_its_new_file() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/a/reuse.toml",
        &experiment("me@example.com", "2026-01-05", "2026-02-01"),
    );
    repo.commit_all_at("first life", "2026-01-05");
    repo.git(&["rm", "-q", "flags/a/reuse.toml"]);
    repo.commit_all_at("removed", "2026-02-01");
    repo.write(
        "flags/a/reuse.toml",
        &experiment("me@example.com", "2026-11-20", "2026-12-15"),
    );
    repo.commit_all_at("second life", "2026-11-20");
    let (_, json) = audit(&repo, &[]);
    assert!(rules_of(&json, "reuse").is_empty(), "{json}");
}

#[test]
fn rev_reads_the_commit_not_the_work_tree() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/ranking/fine.toml",
        &experiment("me@example.com", "2026-11-20", "2026-12-15"),
    );
    repo.commit_all_at("add fine", "2026-11-20");
    repo.write(
        "flags/ranking/broken.toml",
        "description = \"oops\"\nkind = = 1\n",
    );
    let (code, json) = audit(&repo, &[]);
    assert_eq!(code, Some(1));
    let broken = rules_of(&json, "broken");
    assert!(
        !broken.is_empty() && broken.iter().all(|r| r == "invalid-flag"),
        "{broken:?}"
    );
    let (code, json) = audit(&repo, &["--rev", "HEAD"]);
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(json["flags"], 1);
    repo.flagctl(&["--rev", "HEAD", "--as-of", "2026-11-25", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("fine").and(predicate::str::contains("broken").not()));
    repo.flagctl(&["--rev", "nope", "--as-of", "2026-11-25", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--rev nope"));
    repo.flagctl(&["--rev", "HEAD", "kill", "fine", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("read-only"));
}

#[test]
fn base_reports_only_what_the_branch_introduces() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/ranking/old-stale.toml",
        &experiment("me@example.com", "2026-10-01", "2026-10-30"),
    );
    repo.write(
        "flags/search/old-late.toml",
        &experiment("me@example.com", "2026-11-10", "2026-11-12"),
    );
    repo.commit_all_at("old flags", "2026-11-10");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "flags/ranking/new-stale.toml",
        &experiment("me@example.com", "2026-10-20", "2026-11-19"),
    );
    repo.commit_all_at("new flag", "2026-11-21");
    let (code, json) = audit(&repo, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(json["findings"].as_array().unwrap().len(), 3);
    let (code, json) = audit(&repo, &["--base", "main"]);
    assert_eq!(code, Some(1));
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    assert_eq!(findings[0]["flag"], "new-stale");
    assert_eq!(findings[0]["rule"], "expired");
    repo.flagctl(&["audit", "--base", "main", "--as-of", "2026-11-25"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "2 pre-existing finding(s) left out",
        ));
}

#[test]
fn history_follows_a_flag_through_extensions_and_moves() {
    let repo = TestRepo::initialised();
    repo.flagctl(&[
        "create",
        "ranker-v2",
        "--kind",
        "experiment",
        "--service",
        "ranking",
        "--owner",
        "me@example.com",
        "--description",
        "v2",
        "--as-of",
        "2026-11-01",
        "--no-commit",
    ])
    .assert()
    .success();
    repo.commit_all_at("flagctl create: ranker-v2", "2026-11-01");
    let text = repo
        .read("flags/ranking/ranker-v2.toml")
        .replace("expires = 2026-12-01", "expires = 2026-11-10");
    repo.write("flags/ranking/ranker-v2.toml", &text);
    repo.commit_all_at("shorten", "2026-11-02");
    repo.flagctl(&[
        "extend",
        "ranker-v2",
        "--until",
        "2026-11-14",
        "--reason",
        "more data",
        "--as-of",
        "2026-11-08",
    ])
    .assert()
    .success();
    std::fs::create_dir_all(repo.path().join("flags/search")).unwrap();
    repo.git(&[
        "mv",
        "flags/ranking/ranker-v2.toml",
        "flags/search/ranker-v2.toml",
    ]);
    repo.commit_all_at("move ranker-v2 to search", "2026-11-09");
    repo.flagctl(&["kill", "ranker-v2", "--reason", "INC-7"])
        .assert()
        .success();

    let out = repo.flagctl(&["history", "ranker-v2"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("flagctl kill") && text.contains("state added: disabled"),
        "{text}"
    );
    assert!(
        text.contains("moved ranking/ranker-v2.toml → search/ranker-v2.toml"),
        "{text}"
    );
    assert!(
        text.contains("flagctl extend") && text.contains("expires 2026-11-10 → 2026-11-14"),
        "{text}"
    );
    assert!(
        text.contains("flagctl create") && text.contains("added at ranking/ranker-v2.toml"),
        "{text}"
    );

    let out = repo
        .flagctl(&["history", "ranker-v2", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verbs: Vec<Value> = json["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verb"].clone())
        .collect();
    assert_eq!(
        verbs,
        [
            Value::from("kill"),
            Value::Null,
            Value::from("extend"),
            Value::Null,
            Value::from("create")
        ]
    );

    let out = repo
        .flagctl(&[
            "show",
            "ranker-v2",
            "--format",
            "json",
            "--as-of",
            "2026-11-10",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["history"]["created_by"], "Test User");
    assert_eq!(json["history"]["extensions"], 1);
    repo.flagctl(&["show", "ranker-v2", "--as-of", "2026-11-10"])
        .assert()
        .success()
        .stdout(predicate::str::contains("extensions    1"));
}

#[test]
fn without_git_history_checks_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flagctl.toml"), "").unwrap();
    std::fs::create_dir_all(dir.path().join("flags/a")).unwrap();
    std::fs::write(
        dir.path().join("flags/a/x.toml"),
        experiment("me@example.com", "2026-11-20", "2026-12-15"),
    )
    .unwrap();
    common::flagctl(&["audit", "--as-of", "2026-11-25"])
        .current_dir(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "not a git repository: history checks",
        ));
}

#[test]
fn a_shallow_clone_skips_history_checks() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/a/x.toml",
        &experiment("me@example.com", "2026-11-20", "2026-12-15"),
    );
    repo.commit_all_at("x", "2026-11-20");
    repo.write(
        "flags/a/y.toml",
        &experiment("me@example.com", "2026-11-21", "2026-12-15"),
    );
    repo.commit_all_at("y", "2026-11-21");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", repo.path().display());
    let status = std::process::Command::new("git")
        .args([
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            clone.path().to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    common::flagctl(&["audit", "--as-of", "2026-11-25"])
        .current_dir(clone.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("shallow clone"));
}
