//! Export to the serving engine: a flagd flag-definition file that serves what the
//! engine evaluates offline, and the check that it does.

mod flagd;
mod verify;

pub use flagd::{SCHEMA, to_flagd};
pub use verify::{Difference, Verification, probe_generator, verify};

use anyhow::Context as _;
use git2::{Repository, StatusOptions};

use crate::model::config::CONFIG_FILE;
use crate::repo::{Repo, git};

/// The flag set's version: the commit the repository was read from (`--rev`), else
/// HEAD's id with `-dirty` appended (as `git describe --dirty` does) when `flagctl.toml`
/// or the flags folder has uncommitted changes, else `worktree` outside git or before the
/// first commit. The note, when there is one, says why the version is not a plain commit.
pub fn version(repo: &Repo) -> anyhow::Result<(String, Option<String>)> {
    if let Some(revision) = &repo.revision {
        return Ok((revision.id.to_string(), None));
    }
    let Some(git) = git::open(&repo.root) else {
        let note = "not a git repository: the flag set's version is \"worktree\"";
        return Ok(("worktree".into(), Some(note.into())));
    };
    let Some(head) = git.head().ok().and_then(|head| head.target()) else {
        let note = "no commits yet: the flag set's version is \"worktree\"";
        return Ok(("worktree".into(), Some(note.into())));
    };
    if flags_changed(&git, repo)? {
        let note = format!(
            "flag files have uncommitted changes: the version is {head}-dirty; commit them for a version that names what is served"
        );
        return Ok((format!("{head}-dirty"), Some(note)));
    }
    Ok((head.to_string(), None))
}

/// Whether `flagctl.toml` or anything under the flags folder differs from HEAD.
fn flags_changed(git: &Repository, repo: &Repo) -> anyhow::Result<bool> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    for path in [CONFIG_FILE, repo.config.flags_dir.as_str()] {
        options.pathspec(git::git_path(git, &repo.root, path)?);
    }
    let statuses = git
        .statuses(Some(&mut options))
        .context("cannot read git status")?;
    Ok(!statuses.is_empty())
}
