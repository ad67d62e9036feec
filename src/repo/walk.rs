//! Walking the flags folder of a work tree: `<service>/<key>.toml` and
//! `_archive/<service>/<key>.toml`. Every path is opened through [`confine`].

use std::path::Path;

use anyhow::Context;

use super::{Body, Entry, confine};
use crate::model::names::key_of_file;

pub const ARCHIVE_DIR: &str = "_archive";

/// Every `.toml` file under `flags_dir` (relative to `root`), with where it sits. The
/// flags folder must stay inside the repository and must not be a nested repository;
/// symlinked folders below it are not followed (each is reported as a problem).
pub(crate) fn flag_files(root: &Path, flags_dir: &str) -> anyhow::Result<Vec<Entry>> {
    let dir = confine::resolve(root, flags_dir, false).map_err(|why| anyhow::anyhow!("{why}"))?;
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    refuse_nested_repository(&dir, flags_dir)?;
    let mut entries = Vec::new();
    let walker = walkdir::WalkDir::new(&dir)
        .min_depth(1)
        .max_depth(3)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'));
    for item in walker {
        let item = item.with_context(|| format!("cannot read {flags_dir}"))?;
        let path = item.path();
        let inner = relative(&dir, path);
        let rel_root = format!("{flags_dir}/{inner}");
        if let Some(entry) = hidden_name(&rel_root) {
            entries.push(entry);
            continue;
        }
        if item.file_type().is_dir() {
            refuse_nested_repository(path, &rel_root)?;
        }
        if item.path_is_symlink() && path.is_dir() {
            entries.push(unreadable(
                rel_root,
                "a symlinked folder; flagctl does not follow symlinked folders",
            ));
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "toml") {
            continue;
        }
        let parts: Vec<&str> = inner.split('/').collect();
        let Some(place) = Placement::of(&parts) else {
            if !item.file_type().is_dir() {
                entries.push(misplaced(rel_root, flags_dir));
            }
            continue;
        };
        if item.file_type().is_dir() {
            continue;
        }
        let body = if item.path_is_symlink() {
            confine::resolve(root, &rel_root, false).map(Body::Disk)
        } else {
            Ok(Body::Disk(path.to_path_buf()))
        };
        entries.push(place.entry(rel_root, body));
    }
    Ok(entries)
}

/// A folder with its own `.git` (a submodule or a nested clone) holds files of another
/// repository: committing into it would replace the gitlink.
fn refuse_nested_repository(dir: &Path, shown: &str) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(dir.join(".git")).is_ok() {
        anyhow::bail!(
            "{shown} is a nested git repository (a submodule or a clone); flagctl keeps flags in the repository itself\n\
             help: move the flag files into this repository, or run flagctl inside {shown} with --repo"
        );
    }
    Ok(())
}

/// A file or folder whose name holds a control character (a line break could forge
/// lines of the output where its name is shown): a problem under its escaped name, and
/// not read.
pub(crate) fn hidden_name(rel: &str) -> Option<Entry> {
    rel.chars().any(crate::model::source::is_hidden).then(|| {
        unreadable(
            crate::model::source::shown(rel).into_owned(),
            "its name holds a control character; rename it",
        )
    })
}

/// A file below the flags folder that cannot be a flag, and why.
fn unreadable(path: String, why: &str) -> Entry {
    Entry {
        path,
        service: String::new(),
        key: String::new(),
        archived: false,
        body: Err(why.to_string()),
    }
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

/// `path` relative to `root`, with `/` separators.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
