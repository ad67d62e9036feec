//! Writing files atomically: a reader sees the old file or the new one, never half of one.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

/// Writes `contents` to `path` through a temporary file in the same folder. With
/// `overwrite = false`, fails rather than replace an existing file.
pub fn write_atomic(path: &Path, contents: &str, overwrite: bool) -> anyhow::Result<()> {
    let dir = path.parent().context("a file path has a parent folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".flagctl-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    temp.write_all(contents.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let result = if overwrite {
        temp.persist(path).map(drop)
    } else {
        temp.persist_noclobber(path).map(drop)
    };
    if let Err(e) = result {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            bail!("{} already exists; not overwritten", path.display());
        }
        return Err(e.error).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}
