//! End-to-end tests of init, create, validate, list and show in temporary git repositories.

mod common;

use std::time::Duration;

use common::{TestRepo, experiment, on_example};
use predicates::prelude::*;
use serde_json::Value;

fn create_args<'a>(key: &'a str, kind: &'a str) -> Vec<&'a str> {
    vec![
        "create",
        key,
        "--kind",
        kind,
        "--service",
        "ranking",
        "--owner",
        "ml@example.com",
        "--description",
        "Route traffic to ranker v2",
        "--as-of",
        "2026-11-01",
    ]
}

#[test]
fn init_writes_config_and_flags_folder() {
    let repo = TestRepo::new();
    repo.flagctl(&["init"]).assert().success();
    assert!(repo.read("flagctl.toml").contains("[policy]"));
    assert!(repo.path().join("flags").is_dir());
    // A second init refuses rather than overwrite.
    repo.flagctl(&["init"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
}

#[test]
fn create_writes_and_commits_an_experiment() {
    let repo = TestRepo::initialised();
    repo.flagctl(&create_args("ranker-v2", "experiment"))
        .assert()
        .success();
    let text = repo.read("flags/ranking/ranker-v2.toml");
    assert!(text.contains("created = 2026-11-01\n"), "{text}");
    assert!(text.contains("expires = 2026-12-01\n"), "{text}");
    assert!(text.contains("owner = \"ml@example.com\""), "{text}");
    assert!(
        repo.last_commit_message()
            .starts_with("flagctl create: ranker-v2\n")
    );
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"])
            .trim(),
        "flags/ranking/ranker-v2.toml"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn create_gives_a_kill_switch_a_review_date() {
    let repo = TestRepo::initialised();
    repo.flagctl(&create_args("ranker-off", "kill-switch"))
        .assert()
        .success();
    let text = repo.read("flags/ranking/ranker-off.toml");
    assert!(text.contains("review_by = 2027-01-30\n"), "{text}");
    assert!(!text.contains("expires"), "{text}");
}

#[test]
fn create_refuses_an_existing_key_and_writes_nothing() {
    let repo = TestRepo::initialised();
    repo.flagctl(&create_args("ranker-v2", "experiment"))
        .assert()
        .success();
    let before = repo.read("flags/ranking/ranker-v2.toml");
    let commits = repo.commit_count();
    let mut args = create_args("ranker-v2", "kill-switch");
    args[5] = "search";
    repo.flagctl(&args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert!(!repo.path().join("flags/search/ranker-v2.toml").exists());
    assert_eq!(repo.read("flags/ranking/ranker-v2.toml"), before);
    assert_eq!(repo.commit_count(), commits);
}

#[test]
fn create_refuses_invalid_keys() {
    let repo = TestRepo::initialised();
    for key in ["Bad Key", "../x"] {
        repo.flagctl(&create_args(key, "experiment"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a valid flag key"));
    }
    assert_eq!(
        std::fs::read_dir(repo.path().join("flags"))
            .unwrap()
            .count(),
        1,
        "only .gitkeep"
    );
    assert!(!repo.path().join("x.toml").exists());
}

#[test]
fn create_refuses_when_other_changes_are_staged() {
    let repo = TestRepo::initialised();
    repo.write("notes.txt", "work in progress\n");
    repo.git(&["add", "notes.txt"]);
    repo.flagctl(&create_args("ranker-v2", "experiment"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("notes.txt"));
    assert!(!repo.path().join("flags/ranking/ranker-v2.toml").exists());
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]).trim(),
        "notes.txt"
    );
}

#[test]
fn create_without_a_terminal_names_what_is_missing() {
    let repo = TestRepo::initialised();
    // The timeout fails the test when it waits for input.
    repo.flagctl(&[
        "--as-of",
        "2026-11-25",
        "create",
        "ranker-v2",
        "--service",
        "ranking",
    ])
    .timeout(Duration::from_secs(10))
    .assert()
    .code(2)
    .stderr(
        predicate::str::contains("--kind")
            .and(predicate::str::contains("--owner"))
            .and(predicate::str::contains("--description")),
    );
}

#[test]
fn a_kind_uses_the_repositorys_template_of_its_name() {
    let repo = TestRepo::initialised();
    repo.write(
        "flagctl.toml",
        "[kinds.canary]\ntemporary = true\nmax_days = 3\n",
    );
    let template = "# Canary: a new model on a sliver of traffic.\ndescription = \"\"\nkind = \"canary\"\nowner = \"\"\n\
        created = 2026-01-01\nexpires = 2026-01-02\ntags = [\"canary\"]\ndefault = \"old\"\n\n[variants]\nold = 1\nnew = 2\n";
    repo.write("templates/canary.toml", template);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "canary kind"]);
    repo.flagctl(&[
        "create",
        "cc",
        "--kind",
        "canary",
        "--service",
        "ranking",
        "--owner",
        "me@example.com",
        "--description",
        "canary",
        "--as-of",
        "2026-11-01",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("from template `canary`"));
    let text = repo.read("flags/ranking/cc.toml");
    assert!(
        text.contains("tags = [\"canary\"]") && text.contains("expires = 2026-11-04"),
        "{text}"
    );
}

#[test]
fn create_with_no_commit_only_writes() {
    let repo = TestRepo::initialised();
    let mut args = create_args("ranker-v2", "experiment");
    args.push("--no-commit");
    repo.flagctl(&args).assert().success();
    assert_eq!(repo.commit_count(), 1);
    assert!(repo.git(&["status", "--porcelain"]).contains("flags/"));
}

#[test]
fn create_checks_the_owner_against_the_registry() {
    let repo = TestRepo::initialised();
    repo.write(
        "flagctl.toml",
        "[owners.team-ranking]\ncontact = \"r@example.com\"\n",
    );
    let mut args = create_args("ranker-v2", "experiment");
    args[7] = "team-rankin";
    repo.flagctl(&args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `team-ranking`"));
    args[7] = "team-ranking";
    repo.flagctl(&args).assert().success();
}

fn broken_repo() -> TestRepo {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/x/broken.toml",
        "description = \"broken\"\nkind = \"experiment\"\nowner = = \"me\"\n",
    );
    repo.write(
        "flags/x/typo.toml",
        &experiment("me@example.com", "2026-11-01", "2026-11-20")
            .replace("owner", "ownr")
            .replace("default", "defualt"),
    );
    repo.write(
        "flags/x/fine.toml",
        &experiment("me@example.com", "2026-11-01", "2026-11-20"),
    );
    repo
}

#[test]
fn validate_points_at_the_line_and_reports_every_file() {
    let repo = broken_repo();
    repo.flagctl(&["validate"]).assert().code(1).stdout(
        predicate::str::contains("flags/x/broken.toml:3:")
            .and(predicate::str::contains("flags/x/typo.toml:3:1"))
            .and(predicate::str::contains("did you mean `owner`?"))
            .and(predicate::str::contains("flags/x/typo.toml:6:1"))
            .and(predicate::str::contains("did you mean `default`?"))
            .and(predicate::str::contains("in 3 flag files")),
    );
}

#[test]
fn validate_json_is_one_object_with_findings_and_summary() {
    let repo = broken_repo();
    let out = repo
        .flagctl(&["validate", "--format", "json", "--as-of", "2026-11-25"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["as_of"], "2026-11-25");
    assert_eq!(json["flags"], 3);
    let findings = json["findings"].as_array().unwrap();
    let places: Vec<(&str, u64)> = findings
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    // Every syntax error of the broken file (all on its line 3); both typos of the other,
    // and the two required keys they leave missing (named at the top of the file).
    assert!(
        places
            .iter()
            .filter(|p| p.0 == "flags/x/broken.toml")
            .all(|p| p.1 == 3),
        "{places:?}"
    );
    let typos: Vec<u64> = places
        .iter()
        .filter(|p| p.0 == "flags/x/typo.toml")
        .map(|p| p.1)
        .collect();
    assert_eq!(typos, [1, 1, 3, 6]);
    assert!(findings.iter().all(|f| f["rule"] == "invalid-flag"));
    assert_eq!(json["summary"]["errors"], findings.len());
}

#[test]
fn validate_reports_duplicate_keys_and_unknown_kinds() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/a/same.toml",
        &experiment("me@example.com", "2026-11-01", "2026-11-20"),
    );
    repo.write(
        "flags/b/same.toml",
        &experiment("me@example.com", "2026-11-01", "2026-11-20"),
    );
    repo.write(
        "flags/b/odd.toml",
        &experiment("me@example.com", "2026-11-01", "2026-11-20")
            .replace("\"experiment\"", "\"experimnt\""),
    );
    let out = repo
        .flagctl(&["--as-of", "2026-11-25", "validate", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("duplicate-key".into(), "flags/a/same.toml".into()),
            ("unknown-kind".into(), "flags/b/odd.toml".into()),
            ("duplicate-key".into(), "flags/b/same.toml".into()),
        ]
    );
}

#[test]
fn dates_are_four_digit_years() {
    let repo = TestRepo::initialised();
    repo.flagctl(&["--as-of", "26-11-01", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a date; use YYYY-MM-DD"));
}

#[test]
fn an_invalid_config_stops_every_command() {
    let repo = TestRepo::initialised();
    repo.write("flagctl.toml", "[policy]\nwarn_dayz = 3\n");
    let diagnostic = || {
        predicate::str::contains("flagctl.toml:2:1")
            .and(predicate::str::contains("did you mean `warn_days`"))
    };
    repo.flagctl(&["list"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(diagnostic());
    // validate and audit report it as their findings: invalid-config.
    for command in ["validate", "audit"] {
        repo.flagctl(&[command])
            .assert()
            .code(2)
            .stdout(diagnostic().and(predicate::str::contains("error[invalid-config]")));
    }
}

#[test]
fn an_invalid_config_is_a_finding_in_every_format_of_audit_and_validate() {
    let repo = TestRepo::initialised();
    repo.write("flagctl.toml", "[policy]\nwarn_dayz = 3\nflags_dir = 4\n");
    let run = |args: &[&str]| {
        let out = repo.flagctl(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    for command in ["validate", "audit"] {
        let json: Value = serde_json::from_str(&run(&[
            command,
            "--format",
            "json",
            "--as-of",
            "2026-11-25",
        ]))
        .unwrap();
        assert_eq!(
            (&json["schema"], &json["as_of"]),
            (&1.into(), &"2026-11-25".into())
        );
        let findings = json["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 2, "{json}");
        assert!(findings.iter().all(|f| f["rule"] == "invalid-config"
            && f["severity"] == "error"
            && f["path"] == "flagctl.toml"));
        assert_eq!(
            (&findings[0]["line"], &findings[0]["column"]),
            (&2.into(), &1.into())
        );
        assert_eq!(json["summary"]["errors"], 2);
    }
    let sarif: Value = serde_json::from_str(&run(&["audit", "--format", "sarif"])).unwrap();
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["results"][0]["ruleId"], "invalid-config");
    assert_eq!(run0["invocations"][0]["executionSuccessful"], false);
    let github = run(&["audit", "--format", "github"]);
    assert!(
        github.starts_with("::error file=flagctl.toml,line=2,col=1,title=invalid-config::"),
        "{github}"
    );
    let junit = run(&["audit", "--format", "junit"]);
    assert!(
        junit.contains(r#"<testcase name="flagctl.toml" classname="flagctl" file="flagctl.toml">"#),
        "{junit}"
    );
    assert!(junit.contains(r#"type="invalid-config""#), "{junit}");
}

#[test]
fn errors_are_json_documents_with_format_json() {
    let repo = TestRepo::initialised();
    let out = repo
        .flagctl(&[
            "history",
            "nope",
            "--format",
            "json",
            "--as-of",
            "2026-11-25",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["as_of"], "2026-11-25");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no commit touched a flag `nope`"),
        "{json}"
    );
    // A broken flagctl.toml stops other commands with the JSON error, its problems named.
    repo.write("flagctl.toml", "[policy]\nwarn_dayz = 3\n");
    let out = repo
        .flagctl(&["eval", "--all", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("flagctl.toml:2:1: unknown key `warn_dayz`"),
        "{message}"
    );
    // An error of audit in sarif is a SARIF log of a failed run.
    repo.write("flagctl.toml", "");
    let out = repo
        .flagctl(&["audit", "--base", "no-such-rev", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    assert!(
        notification["message"]["text"]
            .as_str()
            .unwrap()
            .contains("no-such-rev"),
        "{sarif}"
    );
}

#[test]
fn a_symlink_out_of_the_repository_is_not_followed() {
    let repo = TestRepo::initialised();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.toml");
    std::fs::write(
        &secret,
        experiment("me@example.com", "2026-11-01", "2026-11-20"),
    )
    .unwrap();
    std::fs::create_dir_all(repo.path().join("flags/x")).unwrap();
    std::os::unix::fs::symlink(&secret, repo.path().join("flags/x/secret.toml")).unwrap();
    repo.flagctl(&["validate"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("outside the repository"));
}

#[test]
fn list_json_and_show_work_on_the_example_repository() {
    let out = on_example(&["list", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let flags = json["flags"].as_array().unwrap();
    assert!(flags.len() >= 12);
    let status_of = |key: &str| flags.iter().find(|f| f["key"] == key).unwrap()["status"].clone();
    assert_eq!(status_of("ranker-calibration"), "expired");
    assert_eq!(status_of("fraud-kill-switch"), "disabled");
    assert_eq!(status_of("search-spellcheck-model"), "concluded");
    assert_eq!(status_of("ranker-diversity-threshold"), "review-overdue");

    on_example(&["show", "ranker-v2"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"expires +2026-12-01 \(in 6 days\)")
                .unwrap()
                .and(predicate::str::contains("sg-10pct")),
        );
    on_example(&["show", "ranker-v3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `ranker-v2`?"));
}

#[test]
fn list_is_plain_text_when_piped_and_filters() {
    let out = on_example(&["list", "--service", "fraud"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("KEY"), "{text}");
    assert!(!text.contains('─') && !text.contains('\u{1b}'), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.lines().skip(1).all(|l| l.contains("fraud")), "{text}");
}

#[test]
fn json_into_a_pipe_its_reader_closed_ends_quietly() {
    // `flagctl list --format json | head -1`: the reader goes away before the document,
    // larger than any buffer on the way, is written.
    let repo = TestRepo::initialised();
    for n in 0..300 {
        repo.write(
            &format!("flags/s/flag-{n}.toml"),
            &experiment("me@example.com", "2026-11-01", "2026-12-20"),
        );
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flagctl"))
        .args(["--as-of", "2026-11-25", "list", "--format", "json"])
        .current_dir(repo.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(out.status.success(), "{:?}", out.status);
}
