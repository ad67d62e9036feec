//! Walking the flags folder of a work tree: `<service>/<key>.toml` and
//! `_archive/<service>/<key>.toml`. Symlinks are never followed out of the repository.

use std::path::Path;

use anyhow::Context;

use super::{Body, Entry};
use crate::model::names::key_of_file;

pub const ARCHIVE_DIR: &str = "_archive";

pub(crate) fn flag_files(root: &Path, flags_dir: &Path) -> anyhow::Result<Vec<Entry>> {
    if !flags_dir.is_dir() {
        return Ok(Vec::new());
    }
    let real_root = root
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", root.display()))?;
    let mut entries = Vec::new();
    let walker = walkdir::WalkDir::new(flags_dir)
        .min_depth(1)
        .max_depth(3)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'));
    for item in walker {
        let item = item.with_context(|| format!("cannot read {}", flags_dir.display()))?;
        let path = item.path();
        if path.extension().is_none_or(|ext| ext != "toml") {
            continue;
        }
        let rel_root = relative(root, path);
        let parts: Vec<String> = path
            .strip_prefix(flags_dir)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let Some(place) = Placement::of(&parts) else {
            if !item.file_type().is_dir() {
                entries.push(misplaced(rel_root, &relative(root, flags_dir)));
            }
            continue;
        };
        let body = if item.path_is_symlink() {
            symlink_target(&real_root, path).map(Body::Disk)
        } else if item.file_type().is_file() {
            Ok(Body::Disk(path.to_path_buf()))
        } else {
            continue;
        };
        entries.push(place.entry(rel_root, body));
    }
    Ok(entries)
}

/// Where a `.toml` file sits below the flags folder, by the parts of its path there:
/// `<service>/<key>.toml` or `_archive/<service>/<key>.toml`.
pub(crate) struct Placement<'a> {
    service: &'a str,
    key: &'a str,
    archived: bool,
}

impl<'a> Placement<'a> {
    /// `None` for a file at the wrong depth, which is no flag.
    pub(crate) fn of(parts: &[&'a str]) -> Option<Placement<'a>> {
        let (service, file, archived) = match *parts {
            [service, file] if service != ARCHIVE_DIR => (service, file, false),
            [archive, service, file] if archive == ARCHIVE_DIR => (service, file, true),
            _ => return None,
        };
        Some(Placement {
            service,
            key: key_of_file(file).unwrap_or_default(),
            archived,
        })
    }

    pub(crate) fn entry(&self, path: String, body: Result<Body, String>) -> Entry {
        Entry {
            path,
            service: self.service.to_string(),
            key: self.key.to_string(),
            archived: self.archived,
            body,
        }
    }
}

/// A `.toml` file at the wrong depth: its body says where flag files live.
pub(crate) fn misplaced(path: String, flags_dir: &str) -> Entry {
    Entry {
        path,
        service: String::new(),
        key: String::new(),
        archived: false,
        body: Err(format!(
            "flag files live at {flags_dir}/<service>/<key>.toml or {flags_dir}/{ARCHIVE_DIR}/<service>/<key>.toml"
        )),
    }
}

/// Reads a file found by the walk as UTF-8 text, or says why it cannot.
pub(crate) fn read(path: &Path) -> Result<String, String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            format!(
                "the file is not UTF-8 (byte {}); save it as UTF-8",
                e.utf8_error().valid_up_to()
            )
        }),
        Err(e) => Err(format!("cannot read the file: {e}")),
    }
}

fn symlink_target(real_root: &Path, path: &Path) -> Result<std::path::PathBuf, String> {
    match path.canonicalize() {
        Ok(target) if target.starts_with(real_root) && target.is_file() => Ok(target),
        Ok(target) if target.starts_with(real_root) => {
            Err("the symlink does not lead to a file".into())
        }
        Ok(target) => Err(format!(
            "the symlink leads outside the repository ({}); it is not followed",
            target.display()
        )),
        Err(e) => Err(format!("the symlink is broken: {e}")),
    }
}

/// `path` relative to `root`, with `/` separators.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
