//! Writing files atomically: a reader sees the old file or the new one, never half of one.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};

#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

/// Writes `contents` to `path` through a temporary file in the same folder. With
/// `overwrite = false`, fails rather than replace an existing file.
pub fn write_atomic(path: &Path, contents: &str, overwrite: bool) -> anyhow::Result<()> {
    write_through_temporary(path, contents, overwrite, true)
}

/// Replaces `path` with `contents` through a temporary file in the same folder, as
/// [`write_atomic`] does, without waiting for the disk: a reader, or a process killed
/// half-way, still sees the old file or the new one, but the new text must be kept
/// elsewhere too (a commit's blob) to outlive a power cut.
pub fn replace_atomic(path: &Path, contents: &str) -> anyhow::Result<()> {
    write_through_temporary(path, contents, true, false)
}

fn write_through_temporary(
    path: &Path,
    contents: &str,
    overwrite: bool,
    sync: bool,
) -> anyhow::Result<()> {
    let dir = path.parent().context("a file path has a parent folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // A replaced file keeps its mode; a new one gets the usual 0644 (less the umask),
    // not the 0600 of a temporary file.
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".flagctl-");
    if let Some(permissions) = existing.clone().or_else(default_permissions) {
        builder.permissions(permissions);
    }
    let mut temp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    // Creation applies the umask; a replaced file's mode is restored exactly.
    if let Some(permissions) = existing {
        temp.as_file()
            .set_permissions(permissions)
            .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    }
    temp.write_all(contents.as_bytes())
        .and_then(|()| {
            if sync {
                temp.as_file().sync_all()
            } else {
                Ok(())
            }
        })
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_files_are_readable_and_replaced_files_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        write_atomic(&path, "a = 1\n", false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        // What File::create gives under the same umask, limited to rw-r--r--.
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe).unwrap();
        let expected = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o644;
        assert_eq!(mode, expected, "{mode:o}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, "a = 2\n", true).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert!(write_atomic(&path, "a = 3\n", false).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
    }
}
