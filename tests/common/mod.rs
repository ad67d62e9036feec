//! Helpers for end-to-end tests: a temporary git repository and the flagctl binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;

/// A temporary git repository with an identity, removed when dropped.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
}

impl TestRepo {
    pub fn new() -> TestRepo {
        let repo = TestRepo {
            dir: tempfile::tempdir().unwrap(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test User"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    /// A repository with `flagctl init` run and committed.
    pub fn initialised() -> TestRepo {
        let repo = TestRepo::new();
        repo.flagctl(&["init"]).assert().success();
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-qm", "init"]);
        repo
    }

    /// Stages everything and commits it with author and committer date `date` (RFC 3339
    /// or `YYYY-MM-DD`, taken as noon UTC).
    pub fn commit_all_at(&self, message: &str, date: &str) {
        self.git(&["add", "-A"]);
        self.git_at(&["commit", "-qm", message], date);
    }

    /// Merges `branch` into the current branch with a merge commit (`--no-ff`) dated like
    /// [`commit_all_at`](Self::commit_all_at); false when git stopped on a conflict, which
    /// the test resolves and then commits with `commit_all_at`.
    pub fn merge_at(&self, branch: &str, message: &str, date: &str) -> bool {
        self.run_git(
            &["merge", "-q", "--no-ff", "-m", message, branch],
            Some(date),
        )
        .status
        .success()
    }

    /// `git ARGS…` with author and committer date `date`, as in
    /// [`commit_all_at`](Self::commit_all_at).
    pub fn git_at(&self, args: &[&str], date: &str) -> String {
        self.checked_git(args, Some(date))
    }

    fn checked_git(&self, args: &[&str], date: Option<&str>) -> String {
        let out = self.run_git(args, date);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn run_git(&self, args: &[&str], date: Option<&str>) -> std::process::Output {
        let mut git = StdCommand::new("git");
        git.args(args).current_dir(self.path());
        if let Some(date) = date {
            let date = if date.len() == 10 {
                format!("{date}T12:00:00+00:00")
            } else {
                date.to_string()
            };
            git.env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date);
        }
        git.output().unwrap()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.checked_git(args, None)
    }

    /// `flagctl ARGS…` run in the repository, with no colour and no terminal, on [`TODAY`]
    /// unless `args` name their own `--as-of`.
    pub fn flagctl(&self, args: &[&str]) -> Command {
        let mut cmd = flagctl(args);
        cmd.current_dir(self.path()).env("NO_COLOR", "1");
        cmd
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    pub fn last_commit_message(&self) -> String {
        self.git(&["log", "-1", "--format=%B"])
    }

    pub fn commit_count(&self) -> usize {
        self.git(&["rev-list", "--count", "HEAD"])
            .trim()
            .parse()
            .unwrap()
    }
}

/// The day tests run on unless they name another: no test reads the clock.
pub const TODAY: &str = "2026-11-25";

/// `args` with `--as-of TODAY` in front, unless they name their own `--as-of`.
pub fn dated<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let dated = args.iter().any(|arg| arg.starts_with("--as-of"));
    let today = if dated {
        &[][..]
    } else {
        &["--as-of", TODAY][..]
    };
    today.iter().chain(args).copied().collect()
}

/// `flagctl ARGS…`, on [`TODAY`] unless `args` name their own `--as-of`.
pub fn flagctl(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("flagctl").unwrap();
    cmd.args(dated(args));
    cmd
}

/// Copies the example repository's `flags/` and `flagctl.toml` into `dest`.
pub fn copy_example(dest: &Path) {
    let root = example_repo();
    let status = StdCommand::new("cp")
        .arg("-r")
        .arg(root.join("flags"))
        .arg(root.join("flagctl.toml"))
        .arg(dest)
        .status()
        .unwrap();
    assert!(status.success(), "cp the example into {}", dest.display());
}

/// The example repository at the top of the project.
pub fn example_repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `flagctl --repo <example> ARGS…`, on [`TODAY`] unless `args` name their own `--as-of`.
pub fn on_example(args: &[&str]) -> Command {
    let mut with_repo = vec!["--repo", env!("CARGO_MANIFEST_DIR")];
    with_repo.extend(args);
    flagctl(&with_repo)
}

/// A valid experiment flag file created on `created`.
pub fn experiment(owner: &str, created: &str, expires: &str) -> String {
    format!(
        "description = \"test flag\"\nkind = \"experiment\"\nowner = \"{owner}\"\ncreated = {created}\nexpires = {expires}\n\
         default = \"off\"\n\n[variants]\noff = false\non = true\n"
    )
}
