//! Finding the repository root.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::model::config::CONFIG_FILE;

/// `explicit` when given (`--repo`); else the nearest folder at or above `start` holding
/// `flagctl.toml`; else the root of the git work tree around `start`.
pub fn discover_root(start: &Path, explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        if !dir.is_dir() {
            bail!("--repo {}: no such folder", dir.display());
        }
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
    {
        return Ok(dir.to_path_buf());
    }
    if let Ok(repo) = git2::Repository::discover(start)
        && let Some(workdir) = repo.workdir()
    {
        return Ok(workdir.to_path_buf());
    }
    bail!(
        "{} is not inside a flag repository (no {CONFIG_FILE} above it, and no git work tree)\n\
         help: run `flagctl init` to start one here, or pass --repo DIR",
        start.display()
    )
}
