//! Git history as evidence: one pass over first-parent history indexes, for every flag
//! key, the commits that added, changed, moved or removed its file.
//!
//! Flags are followed by key, so a move between services or into the archive keeps the
//! history; a file renamed to a new key carries its history to the new key.

mod fields;

pub use fields::{FieldChange, field_changes};

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository, Sort};

/// A commit of the first-parent chain.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: Oid,
    /// Author time in the author's own offset.
    pub time: DateTime<FixedOffset>,
    pub author: String,
    pub summary: String,
}

impl CommitInfo {
    /// The author's calendar date of the commit.
    pub fn date(&self) -> NaiveDate {
        self.time.date_naive()
    }

    /// The flagctl verb of a `flagctl VERB: KEY` commit.
    pub fn verb(&self) -> Option<&str> {
        self.summary
            .strip_prefix("flagctl ")?
            .split_once(':')
            .map(|(verb, _)| verb)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    /// Moved to another path: another service, or the archive.
    Moved,
    Deleted,
}

/// One commit's change to one flag's file.
#[derive(Debug, Clone)]
pub struct Change {
    /// Index into [`History::commits`].
    pub commit: usize,
    pub kind: ChangeKind,
    /// Paths relative to the flags folder.
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    pub old_blob: Option<Oid>,
    pub new_blob: Option<Oid>,
}

/// The history of every flag key, oldest change first.
#[derive(Debug, Default)]
pub struct History {
    pub commits: Vec<CommitInfo>,
    pub flags: HashMap<String, Vec<Change>>,
}

impl History {
    pub fn changes(&self, key: &str) -> &[Change] {
        self.flags.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// The commit that first added the flag's file.
    pub fn first_added(&self, key: &str) -> Option<&CommitInfo> {
        self.changes(key)
            .iter()
            .find(|c| c.kind == ChangeKind::Added)
            .map(|c| &self.commits[c.commit])
    }

    /// The last commit that touched the flag's file.
    pub fn last_changed(&self, key: &str) -> Option<&CommitInfo> {
        self.changes(key).last().map(|c| &self.commits[c.commit])
    }
}

/// Why history cannot be read here, if it cannot: no git, or a shallow clone.
pub fn unavailable(git: Option<&Repository>) -> Option<&'static str> {
    match git {
        None => Some("not a git repository: history checks (created-mismatch) were skipped"),
        Some(g) if g.is_shallow() => Some(
            "shallow clone: history checks (created-mismatch) were skipped; fetch with --unshallow or fetch-depth: 0",
        ),
        Some(_) => None,
    }
}

fn key_of(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    name.strip_suffix(".toml").map(str::to_string)
}

/// Walks the first-parent history that ends at `tip` once, oldest first, diffing only the
/// flags folder (`flags_path`, relative to the git work tree) and only where its tree
/// changed. `progress(done, total)` is called as commits are read.
pub fn build(
    git: &Repository,
    tip: Oid,
    flags_path: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<History> {
    let mut walk = git.revwalk().context("cannot walk the git history")?;
    walk.push(tip)?;
    walk.simplify_first_parent()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    let ids: Vec<Oid> = walk
        .collect::<Result<_, _>>()
        .context("cannot walk the git history")?;

    let mut history = History::default();
    let mut previous_tree: Option<Oid> = None;
    let mut diff_options = DiffOptions::new();
    diff_options.include_typechange(true);
    let mut find = DiffFindOptions::new();
    find.renames(true).rename_threshold(50);
    for (index, id) in ids.iter().enumerate() {
        if index % 256 == 0 {
            progress(index, ids.len());
        }
        let commit = git.find_commit(*id)?;
        let flags_tree = commit
            .tree()?
            .get_path(std::path::Path::new(flags_path))
            .ok()
            .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
            .map(|e| e.id());
        if flags_tree == previous_tree {
            continue;
        }
        let old = previous_tree.map(|t| git.find_tree(t)).transpose()?;
        let new = flags_tree.map(|t| git.find_tree(t)).transpose()?;
        previous_tree = flags_tree;
        let mut diff =
            git.diff_tree_to_tree(old.as_ref(), new.as_ref(), Some(&mut diff_options))?;
        diff.find_similar(Some(&mut find))?;

        let author = commit.author();
        let when = author.when();
        let offset = FixedOffset::east_opt(when.offset_minutes() * 60)
            .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
        let time = offset
            .timestamp_opt(when.seconds(), 0)
            .single()
            .context("a commit time out of range")?;
        history.commits.push(CommitInfo {
            id: *id,
            time,
            author: author.name().unwrap_or("?").to_string(),
            summary: commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_string(),
        });
        let commit_index = history.commits.len() - 1;

        for delta in diff.deltas() {
            let path = |f: git2::DiffFile| f.path().map(|p| p.to_string_lossy().replace('\\', "/"));
            let (old_path, new_path) = (path(delta.old_file()), path(delta.new_file()));
            let blob = |f: git2::DiffFile| (!f.id().is_zero()).then(|| f.id());
            let (old_blob, new_blob) = (blob(delta.old_file()), blob(delta.new_file()));
            let kind = match delta.status() {
                Delta::Added | Delta::Copied => ChangeKind::Added,
                Delta::Deleted => ChangeKind::Deleted,
                Delta::Renamed => ChangeKind::Moved,
                Delta::Modified | Delta::Typechange => ChangeKind::Modified,
                _ => continue,
            };
            let Some(key) = new_path.as_deref().or(old_path.as_deref()).and_then(key_of) else {
                continue;
            };
            if kind == ChangeKind::Moved
                && let Some(old_key) = old_path.as_deref().and_then(key_of)
                && old_key != key
                && let Some(earlier) = history.flags.remove(&old_key)
            {
                let entry = history.flags.entry(key.clone()).or_default();
                let later = std::mem::replace(entry, earlier);
                entry.extend(later);
            }
            let (old_path, new_path) = match kind {
                ChangeKind::Added => (None, new_path),
                ChangeKind::Deleted => (old_path, None),
                _ => (old_path, new_path),
            };
            history.flags.entry(key).or_default().push(Change {
                commit: commit_index,
                kind,
                old_path,
                new_path,
                old_blob: if kind == ChangeKind::Added {
                    None
                } else {
                    old_blob
                },
                new_blob: if kind == ChangeKind::Deleted {
                    None
                } else {
                    new_blob
                },
            });
        }
    }
    progress(ids.len(), ids.len());
    Ok(history)
}

/// The text of a blob, when it is UTF-8.
pub fn blob_text(git: &Repository, blob: Option<Oid>) -> Option<String> {
    let blob = git.find_blob(blob?).ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// How many changes moved `expires` later: the flag's extensions.
pub fn extensions(git: &Repository, changes: &[Change]) -> usize {
    let expires = |blob| -> Option<toml::value::Datetime> {
        let table: toml::Table = blob_text(git, blob)?.parse().ok()?;
        table.get("expires")?.as_datetime().copied()
    };
    changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Added && c.kind != ChangeKind::Deleted)
        .filter(|c| match (expires(c.old_blob), expires(c.new_blob)) {
            (Some(old), Some(new)) => new.to_string() > old.to_string(),
            _ => false,
        })
        .count()
}

/// The last first-parent commit at or before `time`, walking back from `tip`.
pub fn commit_at(
    git: &Repository,
    tip: Oid,
    time: DateTime<FixedOffset>,
) -> anyhow::Result<Option<Oid>> {
    let mut walk = git.revwalk()?;
    walk.push(tip)?;
    walk.simplify_first_parent()?;
    for id in walk {
        let id = id?;
        let commit = git.find_commit(id)?;
        if commit.time().seconds() <= time.timestamp() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}
