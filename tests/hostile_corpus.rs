//! A corpus of hostile flag files (tests/hostile/, plus what cannot be checked in:
//! symlinks, a FIFO, a folder, huge and deeply nested files): `validate`, `audit` and
//! `list` finish, exit 0 or 1, never panic, and report something on every bad file.

mod common;

use std::os::unix::fs::symlink;
use std::time::Duration;

use common::TestRepo;
use serde_json::Value;

/// The corpus in a repository, every file under `flags/hostile/`. Files named `ok-*` are
/// valid; every other one must draw a finding.
fn corpus_repo() -> (TestRepo, Vec<String>) {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "");
    let dir = repo.path().join("flags/hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::copy(&path, dir.join(&name)).unwrap();
        names.push(name);
    }
    let generated: [(&str, String); 3] = [
        (
            "huge-string.toml",
            format!("description = \"{}\"\n", "x".repeat(8 << 20)),
        ),
        (
            "deep-array.toml",
            format!("x = {}1{}\n", "[".repeat(20_000), "]".repeat(20_000)),
        ),
        (
            "deep-tables.toml",
            format!("x = {}1{}\n", "{ a = ".repeat(20_000), " }".repeat(20_000)),
        ),
    ];
    for (name, text) in generated {
        std::fs::write(dir.join(name), text).unwrap();
        names.push(name.to_string());
    }
    for (name, target) in [
        ("passwd.toml", "/etc/passwd"),
        ("root.toml", "/"),
        ("zero.toml", "/dev/zero"),
        ("dangling.toml", "/nonexistent/flag.toml"),
        ("loop.toml", "loop.toml"),
    ] {
        symlink(target, dir.join(name)).unwrap();
        names.push(name.to_string());
    }
    let fifo = dir.join("fifo.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    names.push("fifo.toml".into());
    std::fs::create_dir(dir.join("folder.toml")).unwrap();
    names.sort();
    (repo, names)
}

fn run(repo: &TestRepo, args: &[&str]) -> (i32, String, String) {
    let out = repo
        .flagctl(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        code == 0 || code == 1,
        "{args:?} exited {code} (101 is a panic): {}",
        &stderr[..stderr.len().min(2000)]
    );
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn the_corpus_is_large_enough() {
    let (_repo, names) = corpus_repo();
    assert!(names.len() >= 40, "{} files", names.len());
}

#[test]
fn every_bad_file_draws_a_finding_and_nothing_panics() {
    let (repo, names) = corpus_repo();
    run(&repo, &["validate"]);
    run(&repo, &["list"]);
    run(&repo, &["audit"]);
    for format in ["markdown", "html", "json"] {
        run(&repo, &["report", "--refs", "--format", format]);
    }
    run(&repo, &["archive", "--ready", "--dry-run"]);
    let (_, stdout, _) = run(&repo, &["audit", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let flagged: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    let mut missing = Vec::new();
    for name in names
        .iter()
        .filter(|n| !n.starts_with("ok-") && *n != "folder.toml")
    {
        let path = format!("flags/hostile/{name}");
        if !flagged.contains(&path.as_str()) {
            missing.push(path);
        }
    }
    assert!(missing.is_empty(), "no finding on {missing:?}");
    assert!(
        !flagged.contains(&"flags/hostile/ok-valid.toml"),
        "the valid file is clean"
    );
    let (_, stdout, _) = run(&repo, &["list", "--format", "json"]);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert!(json["flags"].as_array().unwrap().len() >= 40);
}

#[test]
fn hostile_configs_are_invalid_config_findings_not_crashes() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile-config");
    let mut count = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let repo = TestRepo::new();
        std::fs::create_dir_all(repo.path().join("flags")).unwrap();
        std::fs::copy(&path, repo.path().join("flagctl.toml")).unwrap();
        let out = repo
            .flagctl(&["validate", "--format", "json"])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        if name == "empty.toml" {
            assert_eq!(code, 0, "{name}: {json}");
            continue;
        }
        assert_eq!(code, 2, "{name}: {json}");
        assert_eq!(
            json["findings"][0]["rule"], "invalid-config",
            "{name}: {json}"
        );
        count += 1;
    }
    assert!(count >= 14, "{count} hostile configs");
}
