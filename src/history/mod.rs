//! Git history as evidence: one pass over first-parent history indexes, for every flag
//! key, the commits that added, changed, moved or removed its file.
//!
//! Flags are followed by key, so a move between services or into the archive keeps the
//! history; a file renamed to a new key carries its history to the new key.

mod fields;
mod objects;

pub use fields::{FieldChange, field_changes};

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use git2::{Oid, Repository};

use objects::Objects;

use crate::model::config::CONFIG_FILE;
use crate::repo::{Repo, git};

/// A commit of the first-parent chain.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    /// The full commit id.
    pub id: String,
    /// Author time in the author's own offset (the committer's when the author's cannot
    /// be read); `None` when neither can.
    pub time: Option<DateTime<FixedOffset>>,
    /// Committer time, when it can be read.
    pub committed: Option<DateTime<FixedOffset>>,
    pub author: String,
    pub summary: String,
}

impl CommitInfo {
    /// The date the commit proves: the earlier of the author's and the committer's
    /// calendar dates, since either alone can be set to anything. `None` when neither
    /// can be read.
    pub fn date(&self) -> Option<NaiveDate> {
        [self.time, self.committed]
            .into_iter()
            .flatten()
            .map(|t| t.date_naive())
            .min()
    }

    /// The flagctl verb of a `flagctl VERB: KEY` commit.
    pub fn verb(&self) -> Option<&str> {
        self.summary
            .strip_prefix("flagctl ")?
            .split_once(':')
            .map(|(verb, _)| verb)
    }
}

/// What a commit did to a flag's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
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
    /// What the reader should know: commits whose dates cannot be read.
    pub notes: Vec<String>,
}

impl History {
    pub fn changes(&self, key: &str) -> &[Change] {
        self.flags.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// The commit that added the flag's file. A key deleted and later reused names a new
    /// flag, so its last addition counts.
    pub fn first_added(&self, key: &str) -> Option<&CommitInfo> {
        self.changes(key)
            .iter()
            .rfind(|c| c.kind == ChangeKind::Added)
            .map(|c| &self.commits[c.commit])
    }

    /// The last commit that touched the flag's file.
    pub fn last_changed(&self, key: &str) -> Option<&CommitInfo> {
        self.changes(key).last().map(|c| &self.commits[c.commit])
    }
}

/// Why history cannot be read here, if it cannot: no git, or a shallow clone.
fn unavailable(git: Option<&Repository>) -> Option<&'static str> {
    match git {
        None => Some("not a git repository: history checks (created-mismatch) were skipped"),
        Some(g) if g.is_shallow() => Some(
            "shallow clone: history checks (created-mismatch) were skipped; fetch with --unshallow or fetch-depth: 0",
        ),
        Some(_) => None,
    }
}

/// The history that ends at the repository's commit (`--rev`) or HEAD, or a note saying
/// why there is none. `progress(done, total)` is called as commits are read.
pub fn load(
    repo: &Repo,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Result<History, String>> {
    let git = git::open(&repo.root);
    if let Some(why) = unavailable(git.as_ref()) {
        return Ok(Err(why.to_string()));
    }
    let git = git.expect("available means there is a repository");
    let tip = match &repo.revision {
        Some(revision) => revision.oid,
        None => match git.head().ok().and_then(|h| h.target()) {
            Some(id) => id,
            None => return Ok(Err("no commits yet: history checks were skipped".into())),
        },
    };
    let prefix = git::git_path(&git, &repo.root, "")?;
    build(&git, tip, &prefix, progress).map(Ok)
}

fn key_of(path: &str) -> Option<String> {
    crate::model::names::key_of_file(path).map(str::to_string)
}

/// A file of the flags folder that differs between two trees.
struct FileDelta {
    path: String,
    old: Option<Oid>,
    new: Option<Oid>,
}

/// Walks the first-parent history that ends at `tip` once, oldest first, comparing only
/// the flags folder and only where its tree changed. The flags folder of each commit is
/// the one that commit's `flagctl.toml` names (under `prefix`, the flag repository's
/// folder inside the git work tree), so a renamed `flags_dir` keeps the history of its
/// files, and a symlinked flags folder is followed inside the tree. A file deleted and
/// added in one commit under the same key (a move between services, or into the
/// archive), or with the same content under a new key (a rename), is a move.
/// `progress(done, total)` is called as commits are read.
pub fn build(
    git: &Repository,
    tip: Oid,
    prefix: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<History> {
    // Objects come from git's own database; re-hashing each one on read doubles the cost.
    git2::opts::strict_hash_verification(false);
    // libgit2's object cache grows with every object read and costs more than it saves
    // here; the trees worth keeping (the previous commit's) are kept by `Objects`.
    git2::opts::enable_caching(false);
    let mut objects = Objects::new(git)?;
    // The first-parent chain, each commit read once.
    let mut chain = Vec::new();
    let mut next = Some(tip);
    while let Some(id) = next {
        let commit = objects.commit(id)?;
        next = commit.parent;
        chain.push(commit);
    }
    chain.reverse();
    let total = chain.len();

    let config_path = join(prefix, CONFIG_FILE);
    let mut config_blob = None;
    let mut flags_path = join(prefix, "flags");
    let mut history = History::default();
    let mut previous: Option<Oid> = None;
    let mut deltas = Vec::new();
    for (index, commit) in chain.into_iter().enumerate() {
        if index % 256 == 0 {
            progress(index, total);
        }
        let blob = objects.blob(commit.tree, &config_path)?;
        if blob != config_blob {
            config_blob = blob;
            let flags_dir = match blob {
                Some(id) => flags_dir_of(&objects.blob_data(id)?),
                None => "flags".to_string(),
            };
            flags_path = join(prefix, &flags_dir);
        }
        let folder = objects.folder(commit.tree, &flags_path)?;
        if folder == previous {
            objects.skip_commit();
            continue;
        }
        deltas.clear();
        diff_trees(&mut objects, previous, folder, "", &mut deltas)?;
        objects.next_commit();
        previous = folder;
        if !deltas.is_empty() {
            if commit.info.date().is_none() {
                history.notes.push(format!(
                    "commit {} has no readable date; it proves no date to created-mismatch",
                    crate::repo::short_id(&commit.info.id)
                ));
            }
            history.commits.push(commit.info);
            record(&mut history, &mut deltas);
        }
    }
    progress(total, total);
    git2::opts::strict_hash_verification(true);
    git2::opts::enable_caching(true);
    Ok(history)
}

/// `a/b` from a folder and a path below it.
fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{}/{path}", prefix.trim_end_matches('/'))
    }
}

/// The flags folder a commit's `flagctl.toml` names: its `flags_dir`, normalised as the
/// configuration does, else `flags` (also when the file does not parse: an old broken
/// configuration must not hide the flags' history).
fn flags_dir_of(config: &[u8]) -> String {
    let dir = std::str::from_utf8(config)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("flags_dir")?.as_str().map(str::to_string));
    let normal: Vec<String> = dir
        .unwrap_or_default()
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .map(str::to_string)
        .collect();
    if normal.is_empty()
        || normal
            .iter()
            .any(|p| p == ".." || p.eq_ignore_ascii_case(".git"))
    {
        return "flags".into();
    }
    normal.join("/")
}

/// The `.toml` files that differ between two trees, descending only into subtrees whose
/// ids differ: a commit that touches one flag costs one service folder, not the folder.
fn diff_trees(
    objects: &mut Objects,
    old: Option<Oid>,
    new: Option<Oid>,
    prefix: &str,
    out: &mut Vec<FileDelta>,
) -> anyhow::Result<()> {
    use std::cmp::Ordering;
    let (old, new) = (
        old.map(|id| objects.tree(id)).transpose()?,
        new.map(|id| objects.tree(id)).transpose()?,
    );
    let mut left = old
        .as_ref()
        .map(|t| t.entries())
        .into_iter()
        .flatten()
        .peekable();
    let mut right = new
        .as_ref()
        .map(|t| t.entries())
        .into_iter()
        .flatten()
        .peekable();
    let mut subtrees = Vec::new();
    loop {
        // Both sides are in git's order, so one merge pass pairs them.
        let (a, b) = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(a), Some(b)) => match a.cmp_git(b) {
                Ordering::Less => (left.next(), None),
                Ordering::Greater => (None, right.next()),
                Ordering::Equal => (left.next(), right.next()),
            },
            (Some(_), None) => (left.next(), None),
            (None, Some(_)) => (None, right.next()),
        };
        if let (Some(a), Some(b)) = (&a, &b)
            && a.raw_id == b.raw_id
        {
            continue;
        }
        let entry = a.or(b).expect("one side exists");
        let name = String::from_utf8_lossy(entry.name);
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if entry.is_tree {
            let side = |e: Option<objects::Entry>| e.filter(|e| e.is_tree).map(|e| e.id());
            subtrees.push((path, side(a), side(b)));
        } else if path.ends_with(".toml") {
            let side = |e: Option<objects::Entry>| e.filter(|e| !e.is_tree).map(|e| e.id());
            out.push(FileDelta {
                path,
                old: side(a),
                new: side(b),
            });
        }
    }
    for (path, old, new) in subtrees {
        diff_trees(objects, old, new, &path, out)?;
    }
    Ok(())
}

/// Files one commit changed, as changes of flag keys.
fn record(history: &mut History, deltas: &mut Vec<FileDelta>) {
    let commit = history.commits.len() - 1;
    // Pair each deletion with an addition of the same key, else of the same content.
    let mut pending: Vec<FileDelta> = Vec::new();
    let (mut deleted, mut added): (Vec<FileDelta>, Vec<FileDelta>) = (Vec::new(), Vec::new());
    for delta in deltas.drain(..) {
        match (delta.old, delta.new) {
            (Some(_), Some(_)) => pending.push(delta),
            (Some(_), None) => deleted.push(delta),
            _ => added.push(delta),
        }
    }
    for gone in deleted {
        let twin = added
            .iter()
            .position(|a| key_of(&a.path) == key_of(&gone.path))
            .or_else(|| added.iter().position(|a| a.new == gone.old));
        match twin {
            Some(i) => {
                let arrived = added.remove(i);
                let (old_key, key) = (key_of(&gone.path), key_of(&arrived.path));
                if let (Some(old_key), Some(key)) = (&old_key, &key)
                    && old_key != key
                    && let Some(earlier) = history.flags.remove(old_key)
                {
                    let entry = history.flags.entry(key.clone()).or_default();
                    let later = std::mem::replace(entry, earlier);
                    entry.extend(later);
                }
                push(
                    history,
                    key,
                    Change {
                        commit,
                        kind: ChangeKind::Moved,
                        old_path: Some(gone.path),
                        new_path: Some(arrived.path),
                        old_blob: gone.old,
                        new_blob: arrived.new,
                    },
                );
            }
            None => push(
                history,
                key_of(&gone.path),
                Change {
                    commit,
                    kind: ChangeKind::Deleted,
                    old_path: Some(gone.path),
                    new_path: None,
                    old_blob: gone.old,
                    new_blob: None,
                },
            ),
        }
    }
    for delta in added {
        push(
            history,
            key_of(&delta.path),
            Change {
                commit,
                kind: ChangeKind::Added,
                old_path: None,
                new_path: Some(delta.path),
                old_blob: None,
                new_blob: delta.new,
            },
        );
    }
    for delta in pending {
        push(
            history,
            key_of(&delta.path),
            Change {
                commit,
                kind: ChangeKind::Modified,
                old_path: Some(delta.path.clone()),
                new_path: Some(delta.path),
                old_blob: delta.old,
                new_blob: delta.new,
            },
        );
    }
}

fn push(history: &mut History, key: Option<String>, change: Change) {
    if let Some(key) = key {
        history.flags.entry(key).or_default().push(change);
    }
}

/// The text of a blob, when it is UTF-8.
fn blob_text(git: &Repository, blob: Option<Oid>) -> Option<String> {
    let blob = git.find_blob(blob?).ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// The flag file's text before and after a change (UTF-8 only).
pub fn texts(repo: &Repo, change: &Change) -> (Option<String>, Option<String>) {
    match git::open(&repo.root) {
        Some(git) => (
            blob_text(&git, change.old_blob),
            blob_text(&git, change.new_blob),
        ),
        None => (None, None),
    }
}

/// One commit's change to a flag, as `flagctl history KEY` reports it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct LogEntry {
    /// The full commit id.
    pub commit: String,
    /// Author time in the author's offset (RFC 3339); `null` when the commit's dates
    /// cannot be read.
    #[serde(serialize_with = "rfc3339")]
    pub date: Option<DateTime<FixedOffset>>,
    pub author: String,
    /// The verb of a `flagctl VERB: KEY` commit.
    pub verb: Option<String>,
    /// The commit message's first line.
    pub subject: String,
    pub kind: ChangeKind,
    /// What happened to the file, in words: `added at …`, `changed`, `moved … → …`,
    /// `deleted from …` (paths relative to the flags folder).
    pub change: String,
    /// The fields the commit changed.
    pub fields: Vec<FieldChange>,
}

/// A time as RFC 3339 with its numeric offset (`+00:00`, never `Z`), as git shows it.
fn rfc3339<S: serde::Serializer>(
    time: &Option<DateTime<FixedOffset>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_str(&time.to_rfc3339()),
        None => serializer.serialize_none(),
    }
}

/// The commits that changed the flag `key`, newest first, with the fields each changed.
pub fn log(repo: &Repo, history: &History, key: &str) -> Vec<LogEntry> {
    let path = |path: &Option<String>| path.clone().unwrap_or_else(|| "?".into());
    history
        .changes(key)
        .iter()
        .rev()
        .map(|change| {
            let commit = &history.commits[change.commit];
            let (old, new) = texts(repo, change);
            let what = match change.kind {
                ChangeKind::Added => format!("added at {}", path(&change.new_path)),
                ChangeKind::Deleted => format!("deleted from {}", path(&change.old_path)),
                ChangeKind::Moved => format!(
                    "moved {} → {}",
                    path(&change.old_path),
                    path(&change.new_path)
                ),
                ChangeKind::Modified => "changed".to_string(),
            };
            LogEntry {
                commit: commit.id.to_string(),
                date: commit.time,
                author: commit.author.clone(),
                verb: commit.verb().map(str::to_owned),
                subject: commit.summary.clone(),
                kind: change.kind,
                change: what,
                fields: field_changes(old.as_deref(), new.as_deref()),
            }
        })
        .collect()
}

/// How many changes moved `expires` later: the flag's extensions.
pub fn extensions(repo: &Repo, changes: &[Change]) -> usize {
    let Some(git) = git::open(&repo.root) else {
        return 0;
    };
    let git = &git;
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
pub(crate) fn commit_at(
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
