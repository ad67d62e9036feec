//! Snapshots of what users read, reviewed as files under tests/snapshots/: every audit
//! format on the example repository (and `--statistics`, `--quiet`), `list`, `show`
//! (an archived flag too), `remind`, `eval --explain`, `eval --contexts`,
//! `history KEY` and an invalid `flagctl.toml`. Dates come from `--as-of` and fixed commit dates; commit ids are
//! redacted. After a deliberate change: `INSTA_UPDATE=always cargo test --test snapshots`
//! (or `cargo insta review`), then review the diff.

mod common;

use common::{TestRepo, experiment};

/// A copy of the example repository outside git, so that what is snapshotted does not
/// depend on this project's own history (or on how shallow its clone is).
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_example(dir.path());
    dir
}

/// `flagctl --repo <copy of the example> ARGS…` on 2026-11-25.
fn on_example(args: &[&str]) -> assert_cmd::Command {
    let copy = example_copy();
    let mut all = vec![
        "--repo",
        copy.path().to_str().unwrap(),
        "--as-of",
        "2026-11-25",
    ];
    all.extend_from_slice(args);
    let cmd = common::flagctl(&all);
    // The copy lives until the test process ends; the command runs before that.
    std::mem::forget(copy);
    cmd
}

/// The stdout of a command, checking its exit code.
fn stdout(mut cmd: assert_cmd::Command, code: i32) -> String {
    let out = cmd.env("NO_COLOR", "1").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Commit ids, full and short, as `[commit]`.
fn redacting_commits() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[commit]");
    settings.add_filter(r"(?m)^[0-9a-f]{7} ", "[commit] ");
    settings
}

#[test]
fn audit_of_the_example_in_every_format() {
    for format in ["human", "json", "github", "sarif", "junit"] {
        let text = stdout(on_example(&["audit", "--format", format]), 1);
        insta::assert_snapshot!(format!("audit_example_{format}"), text);
    }
}

#[test]
fn list_show_and_remind_of_the_example() {
    insta::assert_snapshot!("list_example", stdout(on_example(&["list"]), 0));
    insta::assert_snapshot!(
        "list_example_json",
        stdout(on_example(&["list", "--format", "json"]), 0)
    );
    for key in [
        "ranker-v2",
        "search-spellcheck-model",
        "fraud-kill-switch",
        "fraud-score-threshold",
        "ranker-v1-warmup",
    ] {
        insta::assert_snapshot!(format!("show_{key}"), stdout(on_example(&["show", key]), 0));
    }
    insta::assert_snapshot!(
        "show_ranker_v2_json",
        stdout(on_example(&["show", "ranker-v2", "--format", "json"]), 0)
    );
    insta::assert_snapshot!(
        "remind_example",
        stdout(on_example(&["remind", "--within", "14"]), 0)
    );
    insta::assert_snapshot!(
        "remind_example_markdown",
        stdout(on_example(&["remind", "--format", "markdown"]), 0)
    );
    insta::assert_snapshot!(
        "remind_example_json",
        stdout(on_example(&["remind", "--format", "json"]), 0)
    );
}

#[test]
fn audit_statistics_and_quiet_of_the_example() {
    insta::assert_snapshot!(
        "audit_example_statistics",
        stdout(on_example(&["audit", "--statistics"]), 1)
    );
    insta::assert_snapshot!(
        "audit_example_quiet",
        stdout(on_example(&["audit", "--quiet"]), 1)
    );
}

#[test]
fn eval_contexts_of_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let contexts = dir.path().join("contexts.jsonl");
    std::fs::write(
        &contexts,
        "{\"targetingKey\": \"u-1\", \"country\": \"SG\", \"user_id\": \"u-1\"}\n\
         {\"targetingKey\": \"u-2\", \"email\": \"qa@example.com\"}\n\
         {\"targetingKey\": \"u-3\", \"account_age_days\": 3}\n",
    )
    .unwrap();
    let contexts = contexts.to_str().unwrap();
    insta::assert_snapshot!(
        "eval_contexts_all",
        stdout(on_example(&["eval", "--all", "--contexts", contexts]), 0)
    );
}

#[test]
fn eval_explain_of_the_example() {
    let ranker: Vec<&str> =
        "eval ranker-v2 --explain --ctx country=SG --ctx user_id=u-2 --targeting-key u-2"
            .split_whitespace()
            .collect();
    insta::assert_snapshot!("eval_explain_ranker_v2", stdout(on_example(&ranker), 0));
    let ranker_json = [&ranker[..], &["--format", "json"]].concat();
    insta::assert_snapshot!(
        "eval_explain_ranker_v2_json",
        stdout(on_example(&ranker_json), 0)
    );
    let threshold = [
        "eval",
        "fraud-score-threshold",
        "--explain",
        "--targeting-key",
        "u-9",
    ];
    insta::assert_snapshot!(
        "eval_explain_fraud_score_threshold",
        stdout(on_example(&threshold), 0)
    );
}

/// A flag created, extended, moved to another service and killed, on fixed dates.
fn repository_with_history() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "");
    let created = experiment("team-ranking", "2026-11-01", "2026-11-10");
    repo.write("flags/ranking/ranker-v2.toml", &created);
    repo.commit_all_at("flagctl create: ranker-v2", "2026-11-01T10:00:00+08:00");
    let extended = created.replace("expires = 2026-11-10", "expires = 2026-11-14");
    repo.write("flags/ranking/ranker-v2.toml", &extended);
    repo.commit_all_at(
        "flagctl extend: ranker-v2\n\ntraffic dip in week 2",
        "2026-11-08",
    );
    std::fs::remove_file(repo.path().join("flags/ranking/ranker-v2.toml")).unwrap();
    repo.write("flags/search/ranker-v2.toml", &extended);
    repo.commit_all_at("move ranker-v2 to search", "2026-11-09");
    let killed = extended.replace(
        "default = \"off\"",
        "state = \"disabled\"\ndefault = \"off\"",
    );
    repo.write("flags/search/ranker-v2.toml", &killed);
    repo.commit_all_at("flagctl kill: ranker-v2\n\nINC-42", "2026-11-12");
    repo
}

#[test]
fn history_of_a_flag() {
    let repo = repository_with_history();
    let human = stdout(
        {
            let mut cmd = repo.flagctl(&["history", "ranker-v2"]);
            cmd.args(["--as-of", "2026-11-25"]);
            cmd
        },
        0,
    );
    let json = stdout(
        repo.flagctl(&[
            "history",
            "ranker-v2",
            "--format",
            "json",
            "--as-of",
            "2026-11-25",
        ]),
        0,
    );
    redacting_commits().bind(|| {
        insta::assert_snapshot!("history_human", human);
        insta::assert_snapshot!("history_json", json);
    });
}

#[test]
fn audit_sarif_of_an_invalid_config() {
    let repo = TestRepo::new();
    repo.write(
        "flagctl.toml",
        "[policy]\nwarn_dayz = 3\n\n[kinds.experiment]\ntemporary = true\nmax_dayz = 30\n",
    );
    let sarif = stdout(
        repo.flagctl(&["audit", "--format", "sarif", "--as-of", "2026-11-25"]),
        2,
    );
    insta::assert_snapshot!("audit_invalid_config_sarif", sarif);
}

#[test]
fn report_of_the_example_in_markdown_and_html() {
    let markdown = stdout(on_example(&["report", "--format", "markdown"]), 0);
    insta::assert_snapshot!("report_example_markdown", markdown);
    // The page's structure and text: the stylesheet and the charts' SVG are left out.
    let html = stdout(on_example(&["report", "--format", "html"]), 0);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"(?s)<style>.*?</style>", "<style>[stylesheet]</style>");
    settings.add_filter(r"(?s)<svg .*?</svg>", "[svg chart]");
    settings.bind(|| insta::assert_snapshot!("report_example_html", html));
}
