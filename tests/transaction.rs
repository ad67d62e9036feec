//! Commands that change files are all-or-nothing and safe when run at once: the work
//! tree, the index and HEAD change together or not at all, and commits respect the
//! user's hooks and signing configuration.

mod common;

use std::process::{Command, Output};

use common::TestRepo;
use predicates::prelude::*;

/// A repository holding a copy of the example flags, committed.
fn example() -> TestRepo {
    let repo = TestRepo::new();
    common::copy_example(repo.path());
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "example flags"]);
    repo
}

/// HEAD, what the index holds and what the work tree differs in.
fn snapshot(repo: &TestRepo) -> (String, String, String) {
    (
        repo.git(&["rev-parse", "HEAD"]),
        repo.git(&["ls-files", "-s"]),
        repo.git(&["status", "--porcelain"]),
    )
}

/// Starts every command at once and waits for all of them.
fn run_at_once(repo: &TestRepo, commands: &[Vec<String>]) -> Vec<Output> {
    let binary = assert_cmd::cargo::cargo_bin("flagctl");
    let children: Vec<_> = commands
        .iter()
        .map(|args| {
            Command::new(&binary)
                .args(["--as-of", "2026-11-25"])
                .args(args)
                .current_dir(repo.path())
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect()
}

/// Kills the example's search kill switch.
const KILL: [&str; 4] = ["kill", "search-kill-switch", "--reason", "x"];

/// `create KEY` of an experiment in `service`, owned by `owner`.
fn create(key: &str, service: &str, owner: &str) -> Vec<String> {
    args(&[
        "create",
        key,
        "--kind",
        "experiment",
        "--service",
        service,
        "--owner",
        owner,
        "--description",
        "a test",
    ])
}

fn assert_all_succeed(outputs: &[Output]) {
    for output in outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn a_held_index_lock_changes_nothing_and_says_so() {
    let repo = example();
    let before = snapshot(&repo);
    std::fs::write(repo.path().join(".git/index.lock"), "").unwrap();
    repo.flagctl(&KILL).assert().code(2).stderr(
        predicate::str::contains("index.lock exists")
            .and(predicate::str::contains("nothing was changed")),
    );
    std::fs::remove_file(repo.path().join(".git/index.lock")).unwrap();
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn parallel_kills_of_different_flags_all_land() {
    let repo = example();
    let keys = [
        "search-kill-switch",
        "search-embeddings-v3",
        "search-spellcheck-model",
        "ranker-v2",
        "ranker-calibration",
        "fraud-model-v7",
        "fraud-score-threshold",
        "recsys-two-tower-v2",
    ];
    let listed = repo.git(&["ls-files", "flags"]);
    for key in keys {
        assert!(
            listed.contains(&format!("/{key}.toml")),
            "{key} is an example flag"
        );
    }
    let before = repo.commit_count();
    let commands: Vec<Vec<String>> = keys
        .iter()
        .map(|key| args(&["kill", key, "--reason", "incident"]))
        .collect();
    assert_all_succeed(&run_at_once(&repo, &commands));
    assert_eq!(repo.commit_count(), before + keys.len());
    let files = repo.git(&["ls-files", "flags"]);
    for key in keys {
        let path = files
            .lines()
            .find(|p| p.ends_with(&format!("/{key}.toml")))
            .unwrap();
        let committed = repo.git(&["show", &format!("HEAD:{path}")]);
        assert!(
            committed.contains("state = \"disabled\""),
            "{key}: {committed}"
        );
    }
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn parallel_creates_of_different_keys_all_land() {
    let repo = example();
    let before = repo.commit_count();
    let commands: Vec<Vec<String>> = (0..8)
        .map(|i| create(&format!("new-flag-{i}"), "search", "team-search"))
        .collect();
    assert_all_succeed(&run_at_once(&repo, &commands));
    assert_eq!(repo.commit_count(), before + 8);
    let files = repo.git(&["ls-files", "flags/search"]);
    for i in 0..8 {
        assert!(
            files.contains(&format!("flags/search/new-flag-{i}.toml")),
            "{files}"
        );
    }
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn one_key_created_at_once_in_four_services_is_created_once() {
    let repo = example();
    let before = repo.commit_count();
    let commands: Vec<Vec<String>> = ["search", "ranking", "fraud", "recsys"]
        .iter()
        .map(|service| create("shared-key", service, "ml-platform"))
        .collect();
    let outputs = run_at_once(&repo, &commands);
    let created = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(created, 1);
    for output in outputs.iter().filter(|o| !o.status.success()) {
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
    }
    assert_eq!(repo.commit_count(), before + 1);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn parallel_steps_on_one_flag_keep_exactly_the_successful_edits() {
    let repo = example();
    let path = "flags/search/search-embeddings-v3.toml";
    let before = repo.commit_count();
    let commands = [
        args(&["expire", "search-embeddings-v3", "--winner", "v3"]),
        args(&["kill", "search-embeddings-v3", "--reason", "incident"]),
        args(&[
            "extend",
            "search-embeddings-v3",
            "--until",
            "2026-12-01",
            "--reason",
            "more data",
        ]),
    ];
    let outputs = run_at_once(&repo, &commands);
    let succeeded: Vec<bool> = outputs.iter().map(|o| o.status.success()).collect();
    assert!(succeeded[1], "kill applies in any order");
    let committed = repo.git(&["show", &format!("HEAD:{path}")]);
    assert_eq!(
        committed.contains("[conclusion]"),
        succeeded[0],
        "{committed}"
    );
    assert!(committed.contains("state = \"disabled\""), "{committed}");
    assert_eq!(
        committed.contains("expires = 2026-12-01"),
        succeeded[2],
        "{committed}"
    );
    let landed = succeeded.iter().filter(|s| **s).count();
    assert_eq!(repo.commit_count(), before + landed);
    assert_eq!(repo.read(path), committed);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_failing_pre_commit_hook_stops_the_step() {
    let repo = example();
    let hook = repo.write(
        ".git/hooks/pre-commit",
        "#!/bin/sh\necho 'flag review needs a ticket' >&2\nexit 1\n",
    );
    make_executable(&hook);
    let before = snapshot(&repo);
    repo.flagctl(&["review", "search-kill-switch"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("pre-commit hook failed (exit 1)")
                .and(predicate::str::contains("flag review needs a ticket"))
                .and(predicate::str::contains("nothing was changed")),
        );
    assert_eq!(snapshot(&repo), before);
    repo.flagctl(&[
        "--as-of",
        "2026-11-25",
        "review",
        "search-kill-switch",
        "--no-verify",
    ])
    .assert()
    .success();
    assert_eq!(
        repo.last_commit_message().lines().next(),
        Some("flagctl review: search-kill-switch")
    );
}

#[test]
fn the_commit_msg_hook_sees_the_staged_change_and_edits_the_message() {
    let repo = example();
    let hook = repo.write(
        ".git/hooks/commit-msg",
        "#!/bin/sh\ngit diff --cached --name-only >> \"$1\"\necho 'Reviewed-by: hook' >> \"$1\"\n",
    );
    make_executable(&hook);
    repo.flagctl(&KILL).assert().success();
    let message = repo.last_commit_message();
    assert!(message.contains("Reviewed-by: hook"), "{message}");
    assert!(
        message.contains("flags/search/search-kill-switch.toml"),
        "{message}"
    );
}

#[test]
fn commits_are_signed_when_commit_gpgsign_is_set() {
    let repo = example();
    let key = repo.path().join(".git/signing-key");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen signs the test commits");
    assert!(status.success());
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "user.signingkey", key.to_str().unwrap()]);
    repo.git(&["config", "commit.gpgsign", "true"]);
    repo.flagctl(&KILL).assert().success();
    let commit = repo.git(&["cat-file", "commit", "HEAD"]);
    assert!(
        commit.contains("gpgsig -----BEGIN SSH SIGNATURE-----"),
        "{commit}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    // A key that cannot sign is a clear refusal that changes nothing.
    repo.git(&["config", "user.signingkey", "/nonexistent/key"]);
    let before = snapshot(&repo);
    repo.flagctl(&["restore", "search-kill-switch"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("commit.gpgsign is set")
                .and(predicate::str::contains("nothing was changed")),
        );
    assert_eq!(snapshot(&repo), before);
}

#[test]
fn a_detached_head_is_refused_without_force_detached() {
    let repo = example();
    repo.git(&["checkout", "-q", "--detach"]);
    let before = snapshot(&repo);
    repo.flagctl(&KILL)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("HEAD is detached"));
    assert_eq!(snapshot(&repo), before);
    repo.flagctl(&[&KILL[..], &["--force-detached"]].concat())
        .assert()
        .success();
    assert_eq!(
        repo.last_commit_message().lines().next(),
        Some("flagctl kill: search-kill-switch")
    );
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A commit takes its author and committer, and their dates, from git's environment as
/// `git commit` does; a date flagctl cannot read is refused before anything changes.
#[test]
fn commits_take_git_s_environment_as_git_commit_does() {
    let repo = example();
    let key_args = create("ranker-v9", "ranking", "team-ranking");
    let words: Vec<&str> = key_args.iter().map(String::as_str).collect();
    repo.flagctl(&words)
        .env("GIT_AUTHOR_NAME", "Ada Lima")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2026-11-20T09:30:00+02:00")
        .env("GIT_COMMITTER_DATE", "@1795680000 +0100")
        .assert()
        .success();
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae> %aI|%cn <%ce> %cI"])
            .trim(),
        "Ada Lima <ada@example.com> 2026-11-20T09:30:00+02:00|Test User <test@example.com> 2026-11-26T09:00:00+01:00"
    );

    let before = snapshot(&repo);
    let key_args = create("ranker-v10", "ranking", "team-ranking");
    let words: Vec<&str> = key_args.iter().map(String::as_str).collect();
    repo.flagctl(&words)
        .env("GIT_AUTHOR_DATE", "last tuesday")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("GIT_AUTHOR_DATE is not a date"));
    assert_eq!(snapshot(&repo), before);
    assert!(!repo.path().join("flags/ranking/ranker-v10.toml").exists());
}
