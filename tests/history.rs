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

/// The first finding of `flag`.
fn finding_of<'j>(json: &'j Value, flag: &str) -> &'j Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == flag)
        .unwrap_or_else(|| panic!("no finding of {flag}: {json}"))
}

fn fired(json: &Value, flag: &str, rule: &str) -> bool {
    rules_of(json, flag).iter().any(|r| r == rule)
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
    assert!(!fired(&json, "honest", "created-mismatch"));
    let finding = finding_of(&json, "late");
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
    let finding = finding_of(&json, "late");
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

/// A flag repository outside git, with one flag `x`.
fn outside_git() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flagctl.toml"), "").unwrap();
    std::fs::create_dir_all(dir.path().join("flags/a")).unwrap();
    std::fs::write(
        dir.path().join("flags/a/x.toml"),
        experiment("me@example.com", "2026-11-20", "2026-12-15"),
    )
    .unwrap();
    dir
}

/// A clone of depth 1 of a repository whose flag `x` took two commits.
fn shallow_clone() -> tempfile::TempDir {
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
    clone
}

#[test]
fn without_git_history_checks_are_skipped_with_a_note() {
    let dir = outside_git();
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
    let clone = shallow_clone();
    common::flagctl(&["audit", "--as-of", "2026-11-25"])
        .current_dir(clone.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("shallow clone"));
}

#[test]
fn history_says_what_it_needs() {
    let needs = |dir: &std::path::Path, what: &str| {
        common::flagctl(&["history", "x"])
            .current_dir(dir)
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("flagctl history reads git history: ")
                    .and(predicate::str::contains(what))
                    .and(predicate::str::contains("were skipped").not()),
            );
    };
    let dir = outside_git();
    needs(dir.path(), "is not in a git repository");

    let empty = TestRepo::new();
    empty.write("flagctl.toml", "");
    empty.write(
        "flags/a/x.toml",
        &experiment("me@example.com", "2026-11-20", "2026-12-15"),
    );
    needs(empty.path(), "there are no commits yet");

    let clone = shallow_clone();
    needs(
        clone.path(),
        "this is a shallow clone; fetch the full history with `git fetch --unshallow`",
    );
}

/// Who makes the next commits.
fn as_author(repo: &TestRepo, name: &str) {
    repo.git(&["config", "user.name", name]);
}

/// `history KEY --format json`: its commits, newest first.
fn history_of(repo: &TestRepo, key: &str) -> Vec<Value> {
    let done = repo
        .flagctl(&["history", key, "--format", "json"])
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&done.get_output().stdout).unwrap();
    json["commits"].as_array().unwrap().clone()
}

/// One field of each of the commits.
fn each(commits: &[Value], field: &str) -> Vec<Value> {
    commits.iter().map(|c| c[field].clone()).collect()
}

/// Commits on `date` an experiment `key` in `service`, created on `created`.
fn add_flag(repo: &TestRepo, path: (&str, &str), created: &str, expires: &str, date: &str) {
    let (service, key) = path;
    repo.write(
        &format!("flags/{service}/{key}.toml"),
        &experiment("me@example.com", created, expires),
    );
    repo.commit_all_at(&format!("flagctl create: {key}"), date);
}

/// A flag `key` in `service` that expires on `expires`, created and committed on
/// 2026-11-01.
fn created_on_main(repo: &TestRepo, service: &str, key: &str, expires: &str) {
    add_flag(repo, (service, key), "2026-11-01", expires, "2026-11-01");
}

/// Sets `expires` of the flag at `path`, written by `created_on_main`.
fn set_expires(repo: &TestRepo, path: &str, expires: &str) {
    let text = repo.read(path);
    let (before, rest) = text.split_once("expires = ").unwrap();
    let after = &rest[rest.find('\n').unwrap()..];
    repo.write(path, &format!("{before}expires = {expires}{after}"));
}

#[test]
fn a_merged_branch_keeps_its_commits_their_authors_and_reasons() {
    let repo = TestRepo::initialised();
    created_on_main(&repo, "search", "other", "2026-11-30");
    created_on_main(&repo, "ranking", "ranker-v2", "2026-11-20");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    as_author(&repo, "Ana Lima");
    repo.flagctl(&[
        "extend",
        "ranker-v2",
        "--until",
        "2026-11-28",
        "--reason",
        "traffic dip in week 2",
        "--as-of",
        "2026-11-05",
    ])
    .assert()
    .success();
    // Meanwhile main changes another flag, and the branch takes main in.
    repo.git(&["checkout", "-q", "main"]);
    as_author(&repo, "Test User");
    set_expires(&repo, "flags/search/other.toml", "2026-11-29");
    repo.commit_all_at("shorten other", "2026-11-06");
    repo.git(&["checkout", "-q", "feature"]);
    assert!(repo.merge_at("main", "Merge branch 'main' into feature", "2026-11-07"));
    as_author(&repo, "Bo Chen");
    repo.flagctl(&[
        "kill",
        "ranker-v2",
        "--reason",
        "INC-42: feature store down",
    ])
    .assert()
    .success();
    repo.git(&["checkout", "-q", "main"]);
    as_author(&repo, "Release Manager");
    assert!(repo.merge_at(
        "feature",
        "Merge pull request #7 from feature",
        "2026-11-10"
    ));

    let commits = history_of(&repo, "ranker-v2");
    assert_eq!(each(&commits, "verb"), ["kill", "extend", "create"]);
    assert_eq!(
        each(&commits, "author"),
        ["Bo Chen", "Ana Lima", "Test User"]
    );
    assert_eq!(
        each(&commits, "body"),
        [
            Value::from("INC-42: feature store down"),
            Value::from("traffic dip in week 2"),
            Value::Null
        ]
    );
    assert_eq!(commits[1]["fields"][0]["old"], "2026-11-20");
    assert_eq!(commits[1]["fields"][0]["new"], "2026-11-28");
    // Main's change came in through the branch's merge of main, credited once, to main.
    let other = history_of(&repo, "other");
    assert_eq!(
        each(&other, "subject"),
        ["shorten other", "flagctl create: other"]
    );

    repo.flagctl(&["history", "ranker-v2"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"Bo Chen +flagctl kill\n    » INC-42: feature store down\n    changed\n    state added: disabled\n",
            )
            .unwrap()
            .and(predicate::str::contains("» traffic dip in week 2"))
            .and(predicate::str::contains("Release Manager").not()),
        );
    let out = repo
        .flagctl(&["show", "ranker-v2", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["history"]["created_by"], "Test User");
    assert_eq!(json["history"]["extensions"], 1);
    assert_eq!(json["history"]["last_commit"], commits[0]["commit"]);
}

#[test]
fn a_forward_dated_flag_added_on_a_branch_is_caught_after_the_merge() {
    let repo = TestRepo::initialised();
    created_on_main(&repo, "ranking", "honest", "2026-11-30");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    add_flag(
        &repo,
        ("ranking", "late"),
        "2026-11-15",
        "2026-12-14",
        "2026-11-03",
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.write("notes.txt", "main moves on\n");
    repo.commit_all_at("notes", "2026-11-04");
    assert!(repo.merge_at("feature", "Merge branch 'feature'", "2026-11-20"));

    let (_, json) = audit(&repo, &[]);
    assert_eq!(rules_of(&json, "late"), ["created-mismatch"], "{json}");
    assert!(!fired(&json, "honest", "created-mismatch"), "{json}");
    let finding = finding_of(&json, "late");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .starts_with("created 2026-11-15 is later than 2026-11-03"),
        "{finding}"
    );
}

#[test]
fn a_conflict_resolved_in_a_flag_file_is_credited_to_the_merge() {
    let repo = TestRepo::initialised();
    created_on_main(&repo, "ranking", "x", "2026-11-20");
    let path = "flags/ranking/x.toml";
    repo.git(&["checkout", "-q", "-b", "feature"]);
    set_expires(&repo, path, "2026-11-25");
    repo.commit_all_at("flagctl extend: x\n\non the branch", "2026-11-03");
    repo.git(&["checkout", "-q", "main"]);
    set_expires(&repo, path, "2026-11-22");
    repo.commit_all_at("flagctl extend: x\n\non main", "2026-11-04");
    as_author(&repo, "Release Manager");
    assert!(!repo.merge_at("feature", "Merge branch 'feature'", "2026-11-06"));
    std::fs::write(
        repo.path().join(path),
        experiment("me@example.com", "2026-11-01", "2026-11-28"),
    )
    .unwrap();
    repo.commit_all_at(
        "Merge branch 'feature'\n\nConflict: the later date wins",
        "2026-11-06",
    );

    let commits = history_of(&repo, "x");
    assert_eq!(
        each(&commits, "author"),
        ["Release Manager", "Test User", "Test User", "Test User"]
    );
    assert_eq!(
        each(&commits, "body"),
        [
            Value::from("Conflict: the later date wins"),
            Value::from("on the branch"),
            Value::from("on main"),
            Value::Null
        ]
    );
    // The resolution is what the merge changed on main: from main's date to its own.
    assert_eq!(commits[0]["verb"], Value::Null);
    assert_eq!(commits[0]["fields"][0]["old"], "2026-11-22");
    assert_eq!(commits[0]["fields"][0]["new"], "2026-11-28");
}

#[test]
fn a_deletion_the_merge_undid_does_not_end_the_flag() {
    let repo = TestRepo::initialised();
    add_flag(
        &repo,
        ("ranking", "x"),
        "2026-11-05",
        "2026-11-30",
        "2026-11-01",
    );
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.git(&["rm", "-q", "flags/ranking/x.toml"]);
    repo.commit_all_at("remove x", "2026-11-03");
    repo.git(&["checkout", "-q", "main"]);
    set_expires(&repo, "flags/ranking/x.toml", "2026-11-29");
    repo.commit_all_at("edit x", "2026-11-04");
    // Deleted there, changed here: the merge keeps main's file.
    assert!(!repo.merge_at("feature", "Merge branch 'feature'", "2026-11-06"));
    repo.git(&["add", "flags/ranking/x.toml"]);
    repo.commit_all_at("Merge branch 'feature'", "2026-11-06");

    let commits = history_of(&repo, "x");
    assert_eq!(
        each(&commits, "kind"),
        ["deleted", "modified", "added"],
        "{commits:?}"
    );
    let (_, json) = audit(&repo, &[]);
    assert!(fired(&json, "x", "created-mismatch"), "{json}");
}

/// The history read from git's loose objects and from packs (deltas of every depth),
/// read on one core or several, is one history.
#[test]
fn packed_history_reads_as_loose_history() {
    let repo = TestRepo::initialised();
    for n in 0..6 {
        created_on_main(
            &repo,
            ["search", "ranking"][n % 2],
            &format!("flag-{n}"),
            "2026-11-30",
        );
    }
    for day in 2..28 {
        let n = day % 6;
        let service = ["search", "ranking"][n % 2];
        let path = format!("flags/{service}/flag-{n}.toml");
        if day % 5 == 0 {
            let moved = format!("flags/fraud/flag-{n}.toml");
            repo.write(&moved, &repo.read(&path));
            std::fs::remove_file(repo.path().join(&path)).unwrap();
            repo.commit_all_at(&format!("move flag-{n}"), &format!("2026-11-{day:02}"));
            repo.write(&path, &repo.read(&moved));
            std::fs::remove_file(repo.path().join(&moved)).unwrap();
            repo.commit_all_at(&format!("move flag-{n} back"), &format!("2026-11-{day:02}"));
        } else {
            set_expires(&repo, &path, &format!("2026-12-{day:02}"));
            repo.commit_all_at(&format!("extend flag-{n}"), &format!("2026-11-{day:02}"));
        }
    }
    let read = |threads: &str| {
        let histories: Vec<Vec<Value>> = (0..6)
            .map(|n| {
                let done = repo
                    .flagctl(&["history", &format!("flag-{n}"), "--format", "json"])
                    .env("RAYON_NUM_THREADS", threads)
                    .assert()
                    .success();
                let json: Value = serde_json::from_slice(&done.get_output().stdout).unwrap();
                json["commits"].clone().as_array().unwrap().clone()
            })
            .collect();
        let (_, audit) = audit(&repo, &[]);
        (histories, audit)
    };
    let loose = read("1");
    assert!(loose.0.iter().all(|commits| commits.len() > 3), "{loose:?}");
    for repack in [
        &["gc", "-q", "--aggressive"][..],
        &["repack", "-q", "-a", "-d", "-f", "--depth=3"],
    ] {
        repo.git(repack);
        for threads in ["1", "2"] {
            assert_eq!(read(threads), loose, "{repack:?} on {threads} threads");
        }
    }
}
