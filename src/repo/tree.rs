//! Reading flag files from a commit's tree, laid out as the work tree walk sees them.

use anyhow::Context;
use git2::{ObjectType, Repository, Tree};

use super::walk::{Placement, misplaced};
use super::{Body, Entry};

/// `prefix/rest`, or `rest` when the prefix is empty.
pub(crate) fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}/{rest}")
    }
}

/// The text of the blob at `path`, or `None` when there is none.
pub(crate) fn read_text(
    git: &Repository,
    tree: &Tree,
    path: &str,
) -> anyhow::Result<Option<String>> {
    let Ok(entry) = tree.get_path(std::path::Path::new(path)) else {
        return Ok(None);
    };
    let blob = entry
        .to_object(git)?
        .peel_to_blob()
        .with_context(|| format!("{path} is not a file"))?;
    if blob.size() as u64 > super::confine::MAX_FILE_BYTES {
        anyhow::bail!("{path}: {}", super::confine::too_large(blob.size() as u64));
    }
    let text = super::confine::utf8(blob.content().to_vec())
        .map_err(|why| anyhow::anyhow!("{path}: {why}"))?;
    Ok(Some(text))
}

/// Every `.toml` file under `flags_dir` in `tree`; paths are made relative to `prefix`
/// (the flag repository's folder inside the git work tree).
pub(crate) fn flag_files(
    git: &Repository,
    tree: &Tree,
    flags_dir: &str,
    prefix: &str,
) -> anyhow::Result<Vec<Entry>> {
    let Ok(dir) = tree.get_path(std::path::Path::new(flags_dir)) else {
        return Ok(Vec::new());
    };
    let Ok(dir) = dir.to_object(git)?.peel_to_tree() else {
        return Ok(Vec::new());
    };
    let rel_dir = flags_dir
        .strip_prefix(prefix)
        .unwrap_or(flags_dir)
        .trim_start_matches('/');
    let mut entries = Vec::new();
    let mut visit = |parts: &[&str], entry: &git2::TreeEntry| -> anyhow::Result<()> {
        let rel = format!("{rel_dir}/{}", parts.join("/"));
        if let Some(hidden) = super::walk::hidden_name(&rel) {
            entries.push(hidden);
            return Ok(());
        }
        let Some(place) = Placement::of(parts) else {
            entries.push(misplaced(rel, rel_dir));
            return Ok(());
        };
        let body = if entry.filemode() == 0o120000 {
            Err("the symlink is not followed when reading a commit".to_string())
        } else {
            let blob = entry.to_object(git)?.peel_to_blob()?;
            if blob.size() as u64 > super::confine::MAX_FILE_BYTES {
                Err(super::confine::too_large(blob.size() as u64))
            } else {
                super::confine::utf8(blob.content().to_vec()).map(Body::Text)
            }
        };
        entries.push(place.entry(rel, body));
        Ok(())
    };
    walk_tree(git, &dir, &mut Vec::new(), &mut visit)?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// Visits `.toml` blobs up to three levels deep, skipping hidden entries.
fn walk_tree(
    git: &Repository,
    tree: &Tree,
    parts: &mut Vec<String>,
    visit: &mut dyn FnMut(&[&str], &git2::TreeEntry) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for entry in tree.iter() {
        let Ok(name) = entry.name() else { continue };
        if name.starts_with('.') {
            continue;
        }
        match entry.kind() {
            Some(ObjectType::Tree) if parts.len() < 2 => {
                let subtree = entry.to_object(git)?.peel_to_tree()?;
                parts.push(name.to_string());
                walk_tree(git, &subtree, parts, visit)?;
                parts.pop();
            }
            Some(ObjectType::Blob) if name.ends_with(".toml") => {
                let mut path: Vec<&str> = parts.iter().map(String::as_str).collect();
                path.push(name);
                visit(&path, &entry)?;
            }
            _ => {}
        }
    }
    Ok(())
}
