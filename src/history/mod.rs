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
use git2::{ObjectType, Oid, Repository, Tree};

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

/// A file of the flags folder that differs between two trees.
struct FileDelta {
    path: String,
    old: Option<Oid>,
    new: Option<Oid>,
}

/// The `.toml` files that differ between two trees, descending only into subtrees whose
/// ids differ: a commit that touches one flag costs one service folder, not the folder.
fn diff_trees<'r>(
    git: &'r Repository,
    old: Option<&Tree<'r>>,
    new: Option<&Tree<'r>>,
    prefix: &str,
    trees: &mut Trees<'r>,
    out: &mut Vec<FileDelta>,
) -> anyhow::Result<()> {
    use std::cmp::Ordering;
    // Both trees list entries in git's order (a folder sorts as if named `name/`), so one
    // merge pass pairs them without copying names.
    fn git_order(a: &git2::TreeEntry, b: &git2::TreeEntry) -> Ordering {
        let (a_tree, b_tree) = (
            a.kind() == Some(ObjectType::Tree),
            b.kind() == Some(ObjectType::Tree),
        );
        if a_tree == b_tree {
            // The same suffix on both sides keeps the order of the names.
            return a.name_bytes().cmp(b.name_bytes());
        }
        let suffix = |is_tree: bool| if is_tree { &b"/"[..] } else { &b""[..] };
        a.name_bytes()
            .iter()
            .chain(suffix(a_tree))
            .cmp(b.name_bytes().iter().chain(suffix(b_tree)))
    }
    let len = |t: Option<&Tree>| t.map_or(0, Tree::len);
    let (mut i, mut j) = (0, 0);
    while i < len(old) || j < len(new) {
        let left = old.and_then(|t| t.get(i));
        let right = new.and_then(|t| t.get(j));
        let order = match (&left, &right) {
            (Some(l), Some(r)) => git_order(l, r),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (left, right) = match order {
            Ordering::Less => (left, None),
            Ordering::Greater => (None, right),
            Ordering::Equal => (left, right),
        };
        if left.is_some() {
            i += 1;
        }
        if right.is_some() {
            j += 1;
        }
        if let (Some(l), Some(r)) = (&left, &right)
            && l.id() == r.id()
        {
            continue;
        }
        let entry = left.as_ref().or(right.as_ref()).expect("one side exists");
        let name = String::from_utf8_lossy(entry.name_bytes());
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if entry.kind() == Some(ObjectType::Tree) {
            let old_subtree = left
                .as_ref()
                .map(|e| trees.get(git, e.id(), false))
                .transpose()?;
            let new_subtree = right
                .as_ref()
                .map(|e| trees.get(git, e.id(), true))
                .transpose()?;
            diff_trees(
                git,
                old_subtree.as_ref(),
                new_subtree.as_ref(),
                &path,
                trees,
                out,
            )?;
        } else if path.ends_with(".toml") {
            out.push(FileDelta {
                path,
                old: left.map(|e| e.id()),
                new: right.map(|e| e.id()),
            });
        }
    }
    Ok(())
}

/// Walks the first-parent history that ends at `tip` once, oldest first, comparing only
/// the flags folder (`flags_path`, relative to the git work tree) and only where its tree
/// changed. A file deleted and added in one commit under the same key (a move between
/// services, or into the archive), or with the same content under a new key (a rename),
/// is a move. `progress(done, total)` is called as commits are read.
pub fn build(
    git: &Repository,
    tip: Oid,
    flags_path: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<History> {
    // Objects come from git's own database; re-hashing each one on read doubles the cost.
    git2::opts::strict_hash_verification(false);
    // libgit2's object cache grows with every tree read and costs more than it saves
    // here; the trees worth keeping (the previous commit's) are kept below.
    git2::opts::enable_caching(false);
    // The first-parent chain, read once: each commit is parsed here and never again.
    let mut chain: Vec<(CommitInfo, Oid)> = Vec::new();
    let mut next = Some(git.find_commit(tip).context("cannot read the tip commit")?);
    while let Some(commit) = next {
        chain.push((commit_info(&commit)?, commit.tree_id()));
        next = if commit.parent_count() > 0 {
            Some(commit.parent(0)?)
        } else {
            None
        };
    }
    chain.reverse();
    let ids: Vec<Oid> = chain.iter().map(|(_, tree)| *tree).collect();

    let mut count = 0;
    let deltas = compare_commits(git, &ids, None, flags_path, &mut || {
        count += 1;
        if count % 256 == 0 {
            progress(count, ids.len());
        }
    })?;
    let mut history = History::default();
    for (index, mut deltas) in deltas {
        history.commits.push(chain[index].0.clone());
        record(&mut history, &mut deltas);
    }
    progress(ids.len(), ids.len());
    Ok(history)
}

/// The subtrees read for the current commit, kept so that the next commit, which is
/// compared against them, does not read them again.
struct Trees<'r> {
    previous: HashMap<Oid, Tree<'r>>,
    current: HashMap<Oid, Tree<'r>>,
}

impl<'r> Trees<'r> {
    fn get(&mut self, git: &'r Repository, id: Oid, keep: bool) -> anyhow::Result<Tree<'r>> {
        let tree = match self.previous.get(&id).or_else(|| self.current.get(&id)) {
            Some(tree) => tree.clone(),
            None => git.find_tree(id)?,
        };
        if keep {
            self.current.insert(id, tree.clone());
        }
        Ok(tree)
    }

    /// The current commit becomes the previous one.
    fn advance(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }
}

/// The position of a root tree in the chain, with the flag files that changed there.
type TreeDeltas = (usize, Vec<FileDelta>);

/// Compares each root tree of `ids` with the one before it (`before` for the first).
fn compare_commits(
    git: &Repository,
    ids: &[Oid],
    before: Option<Oid>,
    flags_path: &str,
    tick: &mut dyn FnMut(),
) -> anyhow::Result<Vec<TreeDeltas>> {
    let flags_tree = |id: Oid| -> anyhow::Result<Option<Tree>> {
        Ok(git
            .find_tree(id)?
            .get_path(std::path::Path::new(flags_path))
            .ok()
            .filter(|e| e.kind() == Some(ObjectType::Tree))
            .map(|e| git.find_tree(e.id()))
            .transpose()?)
    };
    let mut previous = before.map(flags_tree).transpose()?.flatten();
    let mut trees = Trees {
        previous: HashMap::new(),
        current: HashMap::new(),
    };
    let mut out = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        tick();
        let tree = flags_tree(*id)?;
        if tree.as_ref().map(Tree::id) == previous.as_ref().map(Tree::id) {
            continue;
        }
        let mut deltas = Vec::new();
        diff_trees(
            git,
            previous.as_ref(),
            tree.as_ref(),
            "",
            &mut trees,
            &mut deltas,
        )?;
        trees.advance();
        previous = tree;
        if !deltas.is_empty() {
            out.push((index, deltas));
        }
    }
    Ok(out)
}

fn commit_info(commit: &git2::Commit) -> anyhow::Result<CommitInfo> {
    let author = commit.author();
    let when = author.when();
    let offset = FixedOffset::east_opt(when.offset_minutes() * 60)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    let time = offset
        .timestamp_opt(when.seconds(), 0)
        .single()
        .context("a commit time out of range")?;
    Ok(CommitInfo {
        id: commit.id(),
        time,
        author: author.name().unwrap_or("?").to_string(),
        summary: commit
            .summary()
            .ok()
            .flatten()
            .unwrap_or_default()
            .to_string(),
    })
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
