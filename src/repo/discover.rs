//! Finding the repository root.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::model::config::CONFIG_FILE;

/// `explicit` when given (`--repo`); else the nearest folder at or above `start` holding
/// `flagctl.toml`, never above the git work tree around `start` (a `flagctl.toml` in a
/// parent folder, such as `/tmp` or a home folder, belongs to nobody's repository); else
/// the root of that work tree.
pub fn discover_root(start: &Path, explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        if dir.is_file() {
            bail!(
                "--repo {}: a file; pass the folder that holds flagctl.toml",
                dir.display()
            );
        }
        if !dir.is_dir() {
            bail!("--repo {}: no such folder", dir.display());
        }
        return Ok(dir.to_path_buf());
    }
    let workdir = git2::Repository::discover(start)
        .ok()
        .and_then(|repo| repo.workdir().map(Path::to_path_buf))
        .and_then(|dir| dir.canonicalize().ok());
    let start_real = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let found = start_real
        .ancestors()
        .take_while(|dir| workdir.as_ref().is_none_or(|top| dir.starts_with(top)))
        .find(|dir| dir.join(CONFIG_FILE).is_file());
    if let Some(dir) = found {
        return Ok(dir.to_path_buf());
    }
    if let Some(workdir) = workdir {
        return Ok(workdir);
    }
    bail!(
        "{} is not inside a flag repository (no {CONFIG_FILE} above it, and no git work tree)\n\
         help: run `flagctl init` to start one here, or pass --repo DIR",
        start.display()
    )
}
