//! Committing exactly the files a command touched, and refusing when others are staged.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, bail};
use git2::{Repository, Status, StatusOptions};

/// A commit's author time in the author's own offset.
pub(crate) fn commit_time(commit: &git2::Commit) -> chrono::DateTime<chrono::FixedOffset> {
    let time = commit.time();
    let offset = chrono::FixedOffset::east_opt(time.offset_minutes() * 60)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC"));
    chrono::DateTime::from_timestamp(time.seconds(), 0)
        .unwrap_or_default()
        .with_timezone(&offset)
}

/// The commit a revspec names; `flag` is the option it came from, for the message.
pub(crate) fn resolve<'g>(
    git: &'g Repository,
    flag: &str,
    rev: &str,
) -> anyhow::Result<git2::Commit<'g>> {
    git.revparse_single(rev)
        .and_then(|object| object.peel_to_commit())
        .map_err(|e| anyhow::anyhow!("{flag} {rev}: no such commit ({})", e.message()))
}

/// Whether any of `paths` (relative to `root`) differs from HEAD, untracked files included.
pub(crate) fn has_changes(git: &Repository, root: &Path, paths: &[&str]) -> anyhow::Result<bool> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    for path in paths {
        options.pathspec(git_path(git, root, path)?);
    }
    let statuses = git
        .statuses(Some(&mut options))
        .context("cannot read git status")?;
    Ok(!statuses.is_empty())
}

/// The git repository around `root`, when there is one.
pub fn open(root: &Path) -> Option<Repository> {
    Repository::discover(root)
        .ok()
        .filter(|r| r.workdir().is_some())
}

/// Paths relative to the git work tree, for a path relative to the flag repository root.
pub fn git_path(repo: &Repository, root: &Path, rel: &str) -> anyhow::Result<String> {
    let workdir = repo
        .workdir()
        .context("the git repository has no work tree")?;
    let workdir = workdir.canonicalize()?;
    let full = root.canonicalize()?.join(rel);
    Ok(super::walk::relative(&workdir, &full))
}

/// What a commit of some paths must not carry along: the paths whose index or work tree
/// differs from HEAD, read in one status pass over the repository (a status per path would
/// read the index and walk the tree once each).
pub struct Uncommitted {
    /// Paths with staged changes.
    staged: HashSet<String>,
    /// Paths with any change, staged or not (tracked files only).
    changed: HashSet<String>,
    /// The paths the index tracks at stage 0, to tell untracked files apart.
    index: git2::Index,
    workdir: std::path::PathBuf,
}

impl Uncommitted {
    pub fn read(repo: &Repository) -> anyhow::Result<Uncommitted> {
        let mut options = StatusOptions::new();
        options.include_untracked(false).include_ignored(false);
        let statuses = repo
            .statuses(Some(&mut options))
            .context("cannot read git status")?;
        let staged_bits = Status::INDEX_NEW
            | Status::INDEX_MODIFIED
            | Status::INDEX_DELETED
            | Status::INDEX_RENAMED
            | Status::INDEX_TYPECHANGE;
        let mut staged = HashSet::new();
        let mut changed = HashSet::new();
        for entry in statuses.iter() {
            let status = entry.status();
            if status.is_empty() || status == Status::CURRENT {
                continue;
            }
            let Ok(path) = entry.path() else { continue };
            if status.intersects(staged_bits) {
                staged.insert(path.to_string());
            }
            changed.insert(path.to_string());
        }
        Ok(Uncommitted {
            staged,
            changed,
            index: repo.index().context("cannot read the git index")?,
            workdir: repo
                .workdir()
                .context("the git repository has no work tree")?
                .to_path_buf(),
        })
    }

    /// Fails when the index holds staged changes to paths other than `allowed`, so that a
    /// commit of ours never carries someone else's work.
    pub fn ensure_nothing_else_staged(&self, allowed: &[String]) -> anyhow::Result<()> {
        let allowed: HashSet<&str> = allowed.iter().map(String::as_str).collect();
        let mut others: Vec<&str> = self
            .staged
            .iter()
            .map(String::as_str)
            .filter(|p| !allowed.contains(p))
            .collect();
        if !others.is_empty() {
            others.sort_unstable();
            bail!(
                "the git index holds other staged changes ({}); flagctl commits only the files it touches\n\
                 help: commit or unstage them first (`git restore --staged <file>`), or pass --no-commit",
                others.join(", ")
            );
        }
        Ok(())
    }

    /// The blob the index holds at `path`.
    pub fn blob(&self, path: &str) -> Option<git2::Oid> {
        self.index
            .get_path(Path::new(path), 0)
            .map(|entry| entry.id)
    }

    /// Whether `path` has changes in the work tree or index that are not committed: a
    /// tracked file that differs, or a file git does not track (untracked or ignored).
    pub fn is_dirty(&self, path: &str) -> bool {
        self.changed.contains(path)
            || (self.index.get_path(Path::new(path), 0).is_none()
                && std::fs::symlink_metadata(self.workdir.join(path)).is_ok())
    }
}

/// Fails early, before anything is written, when git has no identity to commit with.
pub fn ensure_identity(repo: &Repository) -> anyhow::Result<()> {
    repo.signature().map(drop).map_err(|e| anyhow::anyhow!("{}", e.message())).context(
        "git has no identity to commit with\n\
         help: set it with `git config user.name NAME` and `git config user.email EMAIL`, or pass --no-commit",
    )
}

/// The signature of `who`: the repository's configured name and email where `who` names
/// none, and the time of the commit where it gives none.
pub fn signature(
    repo: &Repository,
    who: &super::transaction::Identity,
) -> anyhow::Result<git2::Signature<'static>> {
    let (name, email) = match (&who.name, &who.email) {
        (Some(name), Some(email)) => (name.clone(), email.clone()),
        _ => {
            ensure_identity(repo)?;
            let configured = repo
                .signature()
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            let part = |given: &Option<String>, configured: Option<&str>| {
                given
                    .clone()
                    .unwrap_or_else(|| configured.unwrap_or_default().to_string())
            };
            (
                part(&who.name, configured.name().ok()),
                part(&who.email, configured.email().ok()),
            )
        }
    };
    let signature = match who.time {
        Some(time) => git2::Signature::new(
            &name,
            &email,
            &git2::Time::new(time.timestamp(), time.offset().local_minus_utc() / 60),
        ),
        None => git2::Signature::now(&name, &email),
    };
    signature.map_err(|e| anyhow::anyhow!("cannot sign as {name} <{email}>: {}", e.message()))
}
