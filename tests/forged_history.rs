//! `created-mismatch` reads history a pull request cannot forge around: renamed flags
//! folders, symlinked flags folders and forged author dates are seen through, and a commit
//! whose dates cannot be read stops nothing.

mod common;

use std::process::Command;

use common::{TestRepo, experiment};
use serde_json::Value;

/// A flag created on paper on 2026-11-20 (so it may live until 2026-12-20), though its
/// file was first committed on 2026-10-01.
const FORWARD_DATED: &str = "2026-11-20";

fn audit(repo: &TestRepo) -> (Option<i32>, Value, String) {
    let out = repo
        .flagctl(&["audit", "--format", "json", "--as-of", "2026-11-25"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (
        out.status.code(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mismatches(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "created-mismatch")
        .map(|f| f["flag"].as_str().unwrap().to_string())
        .collect()
}

fn flag() -> String {
    experiment("a@example.com", FORWARD_DATED, "2026-12-15")
}

#[test]
fn a_renamed_flags_dir_keeps_the_flags_history() {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "flags_dir = \"old\"\n");
    repo.write("old/search/sneaky.toml", &flag());
    repo.commit_all_at("add sneaky", "2026-10-01");
    std::fs::rename(repo.path().join("old"), repo.path().join("flags")).unwrap();
    repo.write("flagctl.toml", "flags_dir = \"flags\"\n");
    repo.commit_all_at("move the flags folder", "2026-11-24");
    let (_, json, _) = audit(&repo);
    assert_eq!(mismatches(&json), ["sneaky"], "{json}");
}

#[test]
fn a_symlinked_flags_folder_is_followed_in_history() {
    let repo = TestRepo::new();
    repo.write("hidden/search/sneaky.toml", &flag());
    std::os::unix::fs::symlink("hidden", repo.path().join("flags")).unwrap();
    repo.commit_all_at("add sneaky behind a symlink", "2026-10-01");
    std::fs::remove_file(repo.path().join("flags")).unwrap();
    std::fs::rename(repo.path().join("hidden"), repo.path().join("flags")).unwrap();
    repo.commit_all_at("replace the symlink", "2026-11-24");
    let (_, json, _) = audit(&repo);
    assert_eq!(mismatches(&json), ["sneaky"], "{json}");
}

#[test]
fn a_forged_author_date_does_not_hide_the_commit_date() {
    let repo = TestRepo::new();
    repo.write("flags/search/sneaky.toml", &flag());
    repo.git(&["add", "-A"]);
    let out = Command::new("git")
        .args(["commit", "-qm", "add sneaky"])
        .env("GIT_AUTHOR_DATE", "2026-11-24T12:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2026-10-01T12:00:00+00:00")
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let (_, json, _) = audit(&repo);
    assert_eq!(mismatches(&json), ["sneaky"], "{json}");
}

#[test]
fn commits_with_unreadable_dates_are_noted_not_fatal() {
    for author in [
        "Mallory <m@example.com> 1790000000",
        "Mallory <m@example.com> 99999999999999999999 +0000",
        "Mallory <m@example.com> 1790000000 +9999",
    ] {
        let repo = TestRepo::new();
        repo.write("flags/search/odd.toml", &flag());
        repo.git(&["add", "-A"]);
        let tree = repo.git(&["write-tree"]);
        let commit = format!(
            "tree {}\nauthor {author}\ncommitter {author}\n\nadd odd\n",
            tree.trim()
        );
        let path = repo.write(".git/odd-commit", &commit);
        let id = repo.git(&[
            "hash-object",
            "-t",
            "commit",
            "--literally",
            "-w",
            path.to_str().unwrap(),
        ]);
        repo.git(&["update-ref", "refs/heads/main", id.trim()]);
        repo.write(
            "flags/search/later.toml",
            &experiment("a@example.com", "2026-11-01", "2026-11-30"),
        );
        repo.commit_all_at("add later", "2026-11-01");
        let (code, json, stderr) = audit(&repo);
        assert!(matches!(code, Some(0 | 1)), "{author}: {json}");
        assert!(mismatches(&json).is_empty(), "{author}: {json}");
        let notes = format!("{}{stderr}", json["notes"]);
        assert!(
            notes.contains("no readable date"),
            "{author}: {json} {stderr}"
        );
    }
}

#[test]
fn a_truncated_object_is_an_error_not_a_hang() {
    let repo = TestRepo::new();
    for day in ["01", "02", "03"] {
        repo.write(
            &format!("flags/search/f{day}.toml"),
            &experiment("a@example.com", &format!("2026-11-{day}"), "2026-11-30"),
        );
        repo.commit_all_at(&format!("add f{day}"), &format!("2026-11-{day}"));
    }
    let tree = repo.git(&["rev-parse", "HEAD~1:flags/search"]);
    let tree = tree.trim();
    let path = repo
        .path()
        .join(".git/objects")
        .join(&tree[..2])
        .join(&tree[2..]);
    let bytes = std::fs::read(&path).unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    for args in [vec!["audit"], vec!["history", "f02"]] {
        let mut all = vec!["--as-of", "2026-11-10"];
        all.extend(args.iter());
        repo.flagctl(&all)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "git object {tree} is corrupt"
            )));
    }
}

#[test]
fn policy_from_keeps_a_pull_request_from_loosening_its_own_gate() {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "[policy]\nwarn_days = 7\n");
    repo.write(
        "flags/search/stale.toml",
        &experiment("a@example.com", "2026-10-01", "2026-10-20"),
    );
    repo.commit_all_at("the base branch", "2026-10-01");
    repo.git(&["branch", "base"]);
    // The pull request turns the rule off and moves the flags folder out of sight.
    repo.write(
        "flagctl.toml",
        "flags_dir = \"elsewhere\"\n[severity]\nexpired = \"off\"\n",
    );
    repo.commit_all_at("loosen the gate", "2026-11-24");
    let run = |args: &[&str]| {
        let mut all = vec!["audit", "--format", "json", "--as-of", "2026-11-25"];
        all.extend_from_slice(args);
        let out = repo.flagctl(&all).output().unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), json)
    };
    let (code, json) = run(&[]);
    assert_eq!(code, Some(0), "the loosened gate passes: {json}");
    assert!(
        json["notes"].to_string().contains("does not exist"),
        "{json}"
    );
    let (code, json) = run(&["--policy-from", "base"]);
    assert_eq!(code, Some(1), "{json}");
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"expired"), "{json}");
    assert!(
        json["notes"].to_string().contains("--policy-from base"),
        "{json}"
    );
}
