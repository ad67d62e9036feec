//! A gate that cannot pass by accident, and the defects a first trial found.

mod common;

use common::{TestRepo, experiment};
use predicates::prelude::*;

#[test]
fn a_folder_without_flags_stops_every_command() {
    let repo = TestRepo::new();
    repo.write("README.md", "a monorepo root\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "init"]);
    for args in [
        vec!["audit"],
        vec!["validate"],
        vec!["list"],
        vec!["export"],
        vec!["--rev", "HEAD", "audit"],
        vec!["audit", "--format", "sarif"],
    ] {
        repo.flagctl(&args).assert().code(2).stderr(
            predicate::str::contains("no flags folder").and(predicate::str::contains(
                "run `flagctl init` to start a flag repository here, or pass --repo DIR",
            )),
        );
    }
}

#[test]
fn repo_pointed_at_the_flags_folder_suggests_its_parent() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/search/alpha.toml",
        &experiment("a@example.com", "2026-11-20", "2026-12-10"),
    );
    let flags = repo.path().join("flags");
    common::flagctl(&["--repo", flags.to_str().unwrap(), "audit"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "did you mean --repo {}",
            repo.path().display()
        )));
}

#[test]
fn lifecycle_edits_keep_crlf_line_endings() {
    let repo = TestRepo::initialised();
    repo.git(&["config", "core.autocrlf", "false"]);
    let flag = experiment("a@example.com", "2026-11-20", "2026-12-10").replace('\n', "\r\n");
    repo.write("flags/search/alpha.toml", &flag);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "add alpha"]);
    repo.flagctl(&["kill", "alpha", "--reason", "x"])
        .assert()
        .success();
    let stat = repo.git(&["show", "--numstat", "--format=", "HEAD"]);
    assert_eq!(
        stat.trim(),
        "1\t0\tflags/search/alpha.toml",
        "one line added"
    );
    assert!(
        repo.read("flags/search/alpha.toml")
            .contains("state = \"disabled\"\r\n")
    );
}

#[test]
fn numeric_options_have_ranges() {
    let repo = TestRepo::initialised();
    for (args, range) in [
        (
            vec!["remind", "--timeout", "18446744073709551615"],
            "1..=3600",
        ),
        (vec!["remind", "--within", "4294967295"], "0..=36500"),
        (
            vec!["simulate", "x", "--sample", "99999999999"],
            "1..=10000000",
        ),
        (vec!["export", "--verify", "0"], "1..=1000000"),
    ] {
        repo.flagctl(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(range));
    }
}

#[test]
fn create_refuses_a_future_date_that_would_fail_created_mismatch() {
    let repo = TestRepo::initialised();
    repo.flagctl(&[
        "create",
        "alpha",
        "--kind",
        "experiment",
        "--service",
        "search",
        "--owner",
        "a@example.com",
        "--description",
        "x",
        "--as-of",
        "9999-01-01",
    ])
    .assert()
    .code(2)
    .stderr(
        predicate::str::contains("is after today")
            .and(predicate::str::contains("created-mismatch")),
    );
    assert!(!repo.path().join("flags/search/alpha.toml").exists());
}

#[test]
fn validate_refuses_weights_that_export_refuses() {
    let repo = TestRepo::initialised();
    let flag = experiment("a@example.com", "2026-11-20", "2026-12-10")
        + "\n[[rules]]\nrollout = [{ variant = \"on\", weight = 4294967295 }, { variant = \"off\", weight = 4294967295 }]\n";
    repo.write("flags/search/alpha.toml", &flag);
    repo.flagctl(&["validate"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "more than flagd accepts (2147483647)",
        ));
}

#[test]
fn a_short_kind_is_not_expiring_soon_from_the_day_it_is_made() {
    let repo = TestRepo::initialised();
    let flag = experiment("a@example.com", "2026-11-20", "2026-11-27")
        .replace("kind = \"experiment\"", "kind = \"operational\"");
    repo.write("flags/search/alpha.toml", &flag);
    repo.flagctl(&["audit", "--deny-warnings", "--as-of", "2026-11-20"])
        .assert()
        .success();
    repo.flagctl(&["audit", "--deny-warnings", "--as-of", "2026-11-24"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expiring-soon"));
}

#[test]
fn a_second_review_on_one_day_changes_nothing_and_says_so() {
    let repo = TestRepo::initialised();
    let flag = experiment("a@example.com", "2026-11-01", "2026-12-10")
        .replace("kind = \"experiment\"", "kind = \"kill-switch\"")
        .replace("expires = 2026-12-10", "review_by = 2027-01-01");
    repo.write("flags/search/switch.toml", &flag);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "add switch"]);
    repo.flagctl(&["review", "switch"]).assert().success();
    let commits = repo.commit_count();
    repo.flagctl(&["review", "switch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("review changes nothing"));
    assert_eq!(repo.commit_count(), commits);
}

#[test]
fn audit_base_names_its_own_option() {
    let repo = TestRepo::initialised();
    repo.flagctl(&["audit", "--base", "nonexistent"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--base nonexistent: no such commit",
        ));
}

#[test]
fn a_flagctl_toml_above_the_git_work_tree_is_not_the_repository() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("flagctl.toml"), "[polcy]\n").unwrap();
    let inner = outer.path().join("project");
    std::fs::create_dir(&inner).unwrap();
    let status = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&inner)
        .status()
        .unwrap();
    assert!(status.success());
    let mut cmd = common::flagctl(&["validate"]);
    cmd.current_dir(&inner)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no flags folder"));
    common::flagctl(&["--repo", "README.md", "list"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a file; pass the folder"));
}

#[test]
fn the_pre_commit_recipe_checks_what_is_staged() {
    let repo = TestRepo::initialised();
    let good = experiment("a@example.com", "2026-11-20", "2026-12-10");
    repo.write("flags/search/alpha.toml", &good.replace("owner", "ownr"));
    repo.git(&["add", "-A"]);
    // Fixed in the work tree only: the broken file is what the commit would hold.
    repo.write("flags/search/alpha.toml", &good);
    repo.flagctl(&["validate"]).assert().success();
    repo.flagctl(&["validate", "--staged"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("unknown key `ownr`"));
    repo.flagctl(&["audit", "--staged"]).assert().code(1);
    // The README's hook, with this build of flagctl.
    let binary = assert_cmd::cargo::cargo_bin("flagctl");
    let hook = repo.write(
        ".git/hooks/pre-commit",
        &format!("#!/bin/sh\nexec '{}' validate --staged\n", binary.display()),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("git")
        .args(["commit", "-qm", "add alpha"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the hook stops the commit");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "add alpha"]);
    let framework = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    assert!(framework.contains("entry: flagctl validate --staged"));
}

#[test]
fn the_workflow_commands_gate_a_two_commit_pull_request() {
    let repo = TestRepo::initialised();
    // main carries old debt: a flag that expired long ago.
    repo.write(
        "flags/search/old.toml",
        &experiment("a@example.com", "2026-09-01", "2026-09-20"),
    );
    repo.commit_all_at("old flag", "2026-09-01");
    repo.git(&["branch", "base"]);
    // The pull request: two commits, one new healthy flag.
    repo.git(&["checkout", "-qb", "feature"]);
    repo.write(
        "flags/search/new.toml",
        &experiment("a@example.com", "2026-11-20", "2026-12-15"),
    );
    repo.commit_all_at("add new", "2026-11-20");
    repo.write(
        "flags/search/new.toml",
        &experiment("b@example.com", "2026-11-20", "2026-12-15"),
    );
    repo.commit_all_at("hand it over", "2026-11-21");
    let pull_request = [
        "audit",
        "--format",
        "github",
        "--base",
        "base",
        "--policy-from",
        "base",
    ];
    repo.flagctl(&pull_request).assert().success();
    // The push to main audits everything, old debt included.
    repo.flagctl(&["audit", "--format", "github"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("title=expired"));
    // A pull request that adds a stale flag fails.
    repo.write(
        "flags/search/stale.toml",
        &experiment("a@example.com", "2026-10-01", "2026-10-20"),
    );
    repo.commit_all_at("add stale", "2026-11-22");
    repo.flagctl(&pull_request)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("file=flags/search/stale.toml"));
}

#[test]
fn ci_formats_name_paths_from_the_checkout_root_in_a_monorepo() {
    let repo = TestRepo::new();
    repo.write("platform/flagctl.toml", "");
    repo.write(
        "platform/flags/fraud/old.toml",
        &experiment("a@example.com", "2026-09-01", "2026-09-20"),
    );
    repo.commit_all_at("flags in platform/", "2026-09-01");
    let run = |format: &str| {
        let out = repo
            .flagctl(&["--repo", "platform", "audit", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run("github").contains("file=platform/flags/fraud/old.toml"));
    assert!(run("sarif").contains("\"uri\": \"platform/flags/fraud/old.toml\""));
    assert!(run("junit").contains("file=\"platform/flags/fraud/old.toml\""));
    // json and human speak of the flag repository, as its own commands do.
    assert!(run("json").contains("\"path\": \"flags/fraud/old.toml\""));
}

#[test]
fn validate_reports_every_problem_of_a_file_in_one_run() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/search/alpha.toml",
        "description = 1\nkind = \"experimnt\"\nowner = 3\ncreated = \"2026-11-01\"\n\
         expires = 2026-12-01\nownr = \"x\"\ndefault = \"off\"\n[variants]\noff = false\non = true\n",
    );
    let out = repo
        .flagctl(&["validate", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                format!(
                    "{} {}",
                    f["rule"].as_str().unwrap(),
                    f["message"].as_str().unwrap()
                ),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let expect = [
        (
            "invalid-flag `description` must be a string, not an integer",
            1,
        ),
        ("unknown-kind unknown kind `experimnt`", 2),
        ("invalid-flag `owner` must be a string, not an integer", 3),
        (
            "invalid-flag `created` must be a date such as 2026-11-01, not a string",
            4,
        ),
        ("invalid-flag unknown key `ownr`", 6),
    ];
    for (message, line) in expect {
        assert!(
            found.iter().any(|(m, l)| m == message && *l == line),
            "{message} on line {line}: {found:?}"
        );
    }
}

#[test]
fn messages_read_as_english_and_point_at_what_is_wrong() {
    let repo = TestRepo::initialised();
    repo.write("flagctl.toml", "[severity]\nexpird = \"error\"\n");
    repo.flagctl(&["validate"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("flagctl.toml:2:1"));
    repo.write("flagctl.toml", "");
    let flag = experiment("a@example.com", "2026-11-20", "2026-12-10")
        .replace(
            "expires = 2026-12-10",
            "expires = 12/10/2026\nreviewed = 2026-11-05T10:00:00Z",
        )
        .replace("on = true", "on = 3");
    repo.write("flags/search/alpha.toml", &flag);
    repo.flagctl(&["validate"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("write dates as YYYY-MM-DD"));
    repo.write(
        "flags/search/alpha.toml",
        &flag.replace("expires = 12/10/2026", "expires = 2026-12-10"),
    );
    repo.flagctl(&["validate"]).assert().code(1).stdout(
        predicate::str::contains("write it as `reviewed = 2026-11-05`").and(
            predicate::str::contains("variant `on` is an integer, but `off` is a boolean"),
        ),
    );
}

#[test]
fn the_readme_create_example_works_right_after_init() {
    let repo = TestRepo::initialised();
    repo.flagctl(&[
        "create",
        "ranker-v3",
        "--kind",
        "experiment",
        "--service",
        "ranking",
        "--owner",
        "ranking@example.com",
        "--description",
        "A/B test ranker v3 against v2",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "Created flags/ranking/ranker-v3.toml from template `experiment` and committed it",
    ));
    let outside = tempfile::tempdir().unwrap();
    let mut init = common::flagctl(&["init"]);
    init.current_dir(outside.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("run `git init` first"));
}
