//! A pull request controls every file of the repository, symlinks included: flagctl
//! never reads or writes outside it, never hangs on a FIFO, never reads without bound,
//! and never prints what lies outside.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use common::TestRepo;
use predicates::prelude::*;

/// What a CI job keeps in its environment, and must never see in a log.
const SECRET: &str = "s3cr3t-token-value";

/// A committed repository with one flag, `flags/search/alpha.toml`.
fn repository() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "flags_dir = \"flags\"\n");
    repo.write(
        "flags/search/alpha.toml",
        &common::experiment("a@example.com", "2026-11-20", "2026-12-10"),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "init"]);
    repo
}

/// Runs flagctl with a secret in its environment and a time limit; returns stdout and
/// stderr together, checked for the secret.
fn run(repo: &TestRepo, args: &[&str], code: i32) -> String {
    let output = repo
        .flagctl(args)
        .env("CI_SECRET", SECRET)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(code), "{args:?}: {text}");
    assert!(
        !text.contains(SECRET),
        "{args:?} leaked the environment: {text}"
    );
    text
}

/// `create beta` of an experiment in `service`.
fn create_beta(service: &str) -> Vec<&str> {
    vec![
        "create",
        "beta",
        "--kind",
        "experiment",
        "--service",
        service,
        "--owner",
        "a@example.com",
        "--description",
        "x",
    ]
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_config_that_points_outside_is_refused_without_echoing_it() {
    for target in ["/proc/self/environ", "/dev/zero", "/etc/passwd"] {
        let repo = repository();
        std::fs::remove_file(repo.path().join("flagctl.toml")).unwrap();
        symlink(target, repo.path().join("flagctl.toml")).unwrap();
        for format in ["human", "github", "json", "sarif"] {
            let text = run(&repo, &["audit", "--format", format], 2);
            assert!(text.contains("flagctl.toml"), "{target} {format}: {text}");
            assert!(text.contains("outside the repository"), "{target}: {text}");
            assert!(!text.contains("root:"), "{target}: {text}");
        }
    }
}

#[test]
fn a_fifo_config_or_flag_file_does_not_hang() {
    let repo = repository();
    std::fs::remove_file(repo.path().join("flagctl.toml")).unwrap();
    mkfifo(&repo.path().join("flagctl.toml"));
    let text = run(&repo, &["validate"], 2);
    assert!(text.contains("a FIFO"), "{text}");

    let repo = repository();
    mkfifo(&repo.path().join("flags/search/beta.toml"));
    let text = run(&repo, &["validate"], 1);
    assert!(text.contains("flags/search/beta.toml"), "{text}");
    assert!(text.contains("a FIFO"), "{text}");
}

#[test]
fn flag_files_that_lead_outside_or_are_huge_are_findings() {
    let repo = repository();
    symlink("/etc/passwd", repo.path().join("flags/search/passwd.toml")).unwrap();
    symlink("/dev/zero", repo.path().join("flags/search/zero.toml")).unwrap();
    repo.write(
        "flags/search/huge.toml",
        &format!("description = \"{}\"\n", "x".repeat(8 << 20)),
    );
    let text = run(&repo, &["--format", "json", "validate"], 1);
    for path in ["passwd", "zero", "huge"] {
        assert!(
            text.contains(&format!("flags/search/{path}.toml")),
            "{path}: {text}"
        );
    }
    assert!(text.contains("outside the repository"), "{text}");
    assert!(text.contains("at most 1048576 bytes"), "{text}");
    assert!(!text.contains("root:"), "{text}");
    assert!(
        text.len() < 100_000,
        "the output stays small: {}",
        text.len()
    );
}

#[test]
fn a_flags_folder_symlinked_outside_is_refused_by_every_command() {
    let repo = repository();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("search")).unwrap();
    std::fs::write(
        outside.path().join("search/alpha.toml"),
        common::experiment("a@example.com", "2026-11-20", "2026-12-10"),
    )
    .unwrap();
    std::fs::remove_dir_all(repo.path().join("flags")).unwrap();
    symlink(outside.path(), repo.path().join("flags")).unwrap();
    for args in [
        vec!["show", "alpha"],
        vec!["list"],
        vec!["audit"],
        vec!["kill", "alpha", "--reason", "x"],
    ] {
        let text = run(&repo, &args, 2);
        assert!(text.contains("outside the repository"), "{args:?}: {text}");
    }
    let untouched = std::fs::read_to_string(outside.path().join("search/alpha.toml")).unwrap();
    assert!(!untouched.contains("disabled"));
}

#[test]
fn no_write_goes_through_a_symlinked_service_or_archive_folder() {
    let repo = repository();
    let outside = tempfile::tempdir().unwrap();
    symlink(outside.path(), repo.path().join("flags/ranking")).unwrap();
    let text = run(&repo, &["validate"], 1);
    assert!(text.contains("symlinked folder"), "{text}");
    let text = run(
        &repo,
        &[&create_beta("ranking")[..], &["--no-commit"]].concat(),
        2,
    );
    assert!(text.contains("symlink"), "{text}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);

    std::fs::remove_file(repo.path().join("flags/ranking")).unwrap();
    run(&repo, &["expire", "alpha", "--winner", "on"], 0);
    symlink(outside.path(), repo.path().join("flags/_archive")).unwrap();
    let head = repo.git(&["rev-parse", "HEAD"]);
    let text = run(&repo, &["archive", "alpha"], 2);
    assert!(text.contains("flags/_archive is a symlink"), "{text}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert!(repo.path().join("flags/search/alpha.toml").exists());
}

#[test]
fn a_flags_dir_inside_git_is_refused() {
    let repo = repository();
    repo.write("flagctl.toml", "flags_dir = \".git/refs\"\n");
    let text = run(
        &repo,
        &[&create_beta("heads")[..], &["--no-commit"]].concat(),
        2,
    );
    assert!(text.contains("must not be inside `.git`"), "{text}");
    assert!(!repo.path().join(".git/refs/heads/beta.toml").exists());
}

#[test]
fn a_nested_repository_as_the_flags_folder_is_refused() {
    let repo = repository();
    std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(repo.path().join("flags"))
        .status()
        .unwrap();
    let text = run(&repo, &["kill", "alpha", "--reason", "x"], 2);
    assert!(text.contains("nested git repository"), "{text}");
    let text = run(&repo, &["list"], 2);
    assert!(text.contains("nested git repository"), "{text}");
}

#[test]
fn a_template_that_points_outside_is_refused_without_echoing_it() {
    let repo = repository();
    std::fs::create_dir_all(repo.path().join("templates")).unwrap();
    symlink(
        "/proc/self/environ",
        repo.path().join("templates/experiment.toml"),
    )
    .unwrap();
    let text = run(&repo, &create_beta("search"), 2);
    assert!(text.contains("templates/experiment.toml"), "{text}");
    assert!(text.contains("outside the repository"), "{text}");
    assert!(!repo.path().join("flags/search/beta.toml").exists());
}

#[test]
fn refusals_name_the_path_and_what_to_do() {
    let repo = repository();
    std::fs::remove_file(repo.path().join("flagctl.toml")).unwrap();
    symlink("/etc/hostname", repo.path().join("flagctl.toml")).unwrap();
    repo.flagctl(&["list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "flagctl.toml is a symlink leading outside the repository",
        ));
    repo.flagctl(&["validate"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "error[invalid-config]: flagctl.toml is a symlink leading outside the repository",
        ));
}
