//! Git history as evidence: one pass over first-parent history indexes, for every flag
//! key, the commits that added, changed, moved or removed its file.
//!
//! Flags are followed by key, so a move between services or into the archive keeps the
//! history; a file renamed to a new key carries its history to the new key. A merge on the
//! first-parent line brings in the commits of its merged side, each credited with the
//! changes it made; the merge is credited only with what it changed itself (a conflict
//! resolution).

pub mod code;
mod fields;
mod objects;
mod targeting;

pub use fields::{FieldChange, field_changes};
pub use targeting::{Targeting, TargetingChange};

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, NaiveDate};
use git2::{Oid, Repository};

use objects::{Objects, RawCommit};

use crate::model::config::CONFIG_FILE;
use crate::repo::{Repo, git};

/// A commit that changed flags: on the first-parent line, or on a side a merge brought in.
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

/// The history of every flag key, in the order the changes reached the first-parent line:
/// the commits a merge brought in (parents before children), then the merge.
#[derive(Debug, Default)]
pub struct History {
    pub commits: Vec<CommitInfo>,
    pub flags: HashMap<String, Vec<Change>>,
    /// What the reader should know: commits whose dates cannot be read.
    pub notes: Vec<String>,
    /// The first paragraph of each commit's body, by index into `commits`.
    bodies: Vec<Option<String>>,
}

impl History {
    pub fn changes(&self, key: &str) -> &[Change] {
        self.flags.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// The commit that proves when the flag's file was first added: of the commits that
    /// added it on any path that got merged, the one with the earliest
    /// [date](CommitInfo::date) (a branch's commit can be older than its merge). A key
    /// deleted and later added again names a new flag, so only the additions since its
    /// last such deletion count.
    pub fn first_added(&self, key: &str) -> Option<&CommitInfo> {
        let changes = self.changes(key);
        let last_added = changes.iter().rposition(|c| c.kind == ChangeKind::Added)?;
        let life = changes[..last_added]
            .iter()
            .rposition(|c| c.kind == ChangeKind::Deleted)
            .map_or(0, |deleted| deleted + 1);
        changes[life..=last_added]
            .iter()
            .filter(|c| c.kind == ChangeKind::Added)
            .map(|c| &self.commits[c.commit])
            // Dated commits first; among them, the earliest.
            .min_by_key(|c| (c.date().is_none(), c.date()))
    }

    /// The last commit that touched the flag's file.
    pub fn last_changed(&self, key: &str) -> Option<&CommitInfo> {
        self.changes(key).last().map(|c| &self.commits[c.commit])
    }

    /// The first paragraph of a commit's body (where flagctl writes a step's reason), at
    /// most 300 characters.
    pub fn body(&self, commit: usize) -> Option<&str> {
        self.bodies.get(commit)?.as_deref()
    }

    /// A commit that changed flags, by its index into `commits`.
    fn push_commit(&mut self, commit: RawCommit) -> usize {
        if commit.info.date().is_none() {
            self.notes.push(format!(
                "commit {} has no readable date; it proves no date to created-mismatch",
                crate::repo::short_id(&commit.info.id)
            ));
        }
        self.commits.push(commit.info);
        self.bodies.push(commit.body);
        self.commits.len() - 1
    }
}

/// Why there is no history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The repository is not inside a git work tree.
    NotGit,
    /// The branch has no commit yet.
    NoCommits,
    /// A shallow clone: the older commits are missing.
    Shallow,
}

impl Unavailable {
    /// Why there is no history, in a few words.
    pub fn reason(self) -> &'static str {
        match self {
            Unavailable::NotGit => "not a git repository",
            Unavailable::NoCommits => "no commits yet",
            Unavailable::Shallow => "a shallow clone (fetch with --unshallow)",
        }
    }

    /// What a command that skips its history checks notes.
    pub fn note(self) -> &'static str {
        match self {
            Unavailable::NotGit => {
                "not a git repository: history checks (created-mismatch) were skipped"
            }
            Unavailable::NoCommits => "no commits yet: history checks were skipped",
            Unavailable::Shallow => {
                "shallow clone: history checks (created-mismatch) were skipped; fetch with --unshallow or fetch-depth: 0"
            }
        }
    }
}

/// The history that ends at the repository's commit (`--rev`) or HEAD, or why there is
/// none. `progress(done, total)` is called as commits are read.
pub fn load(
    repo: &Repo,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Result<History, Unavailable>> {
    let Some(git) = git::open(&repo.root) else {
        return Ok(Err(Unavailable::NotGit));
    };
    if git.is_shallow() {
        return Ok(Err(Unavailable::Shallow));
    }
    let tip = match &repo.revision {
        Some(revision) => revision.oid,
        None => match git.head().ok().and_then(|h| h.target()) {
            Some(id) => id,
            None => return Ok(Err(Unavailable::NoCommits)),
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
///
/// At a merge, the commits of its merged side (reachable from its other parents, not from
/// its first) are read once each, parents before children, and each is credited with what
/// it changed; the merge keeps what differs from every parent. The side ends at commits
/// read before, so shared history is never walked twice.
/// `progress(done, total)` is called as first-parent commits are read.
pub fn build(
    git: &Repository,
    tip: Oid,
    prefix: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<History> {
    let _fast = objects::FastReads::new();
    let objects = Objects::new(git)?;
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
    let mut pass = Pass {
        merges_ahead: chain.iter().filter(|c| !c.merged.is_empty()).count(),
        objects,
        flags: FlagsPath::new(prefix),
        history: History::default(),
        previous: None,
        seen: HashMap::new(),
        deltas: Vec::new(),
    };
    for (index, commit) in chain.into_iter().enumerate() {
        if index % 256 == 0 {
            progress(index, total);
        }
        pass.first_parent(commit)?;
    }
    progress(total, total);
    Ok(pass.history)
}

/// The state of one pass over the history.
struct Pass<'r> {
    objects: Objects<'r>,
    flags: FlagsPath,
    history: History,
    /// The flags folder of the last first-parent commit.
    previous: Option<Oid>,
    /// Merges still ahead on the first-parent line: while there are some, the commits read
    /// are remembered in `seen`, where a merged side ends.
    merges_ahead: usize,
    /// The commits read so far with their flags folders: everything reachable from the
    /// last first-parent commit, which is where a merged side ends.
    seen: HashMap<Oid, Option<Oid>>,
    /// Reused from commit to commit.
    deltas: Vec<FileDelta>,
}

impl Pass<'_> {
    fn first_parent(&mut self, commit: RawCommit) -> anyhow::Result<()> {
        if commit.merged.is_empty() {
            let id = commit.id;
            let folder = self.flags.folder(&mut self.objects, commit.tree)?;
            self.credit(commit, &[self.previous], folder)?;
            self.previous = folder;
            if self.merges_ahead > 0 {
                self.seen.insert(id, folder);
            }
            return Ok(());
        }
        // A merge: the commits it brings in, each with its own changes, then the merge
        // with what it changed beyond its parents.
        for side in merged_side(&self.objects, &self.seen, &commit.merged)? {
            self.take_in(side)?;
        }
        self.previous = self.take_in(commit)?;
        self.merges_ahead -= 1;
        if self.merges_ahead == 0 {
            // No side left to end: what was read need not be remembered.
            self.seen = HashMap::new();
        }
        Ok(())
    }

    /// Credits a commit whose parents were read before with what it changed itself, and
    /// remembers its flags folder, which it returns.
    fn take_in(&mut self, commit: RawCommit) -> anyhow::Result<Option<Oid>> {
        let id = commit.id;
        let folder = self.flags.folder(&mut self.objects, commit.tree)?;
        let parents: Vec<Option<Oid>> = commit.parents().map(|p| self.folder_of(p)).collect();
        self.credit(commit, &parents, folder)?;
        self.seen.insert(id, folder);
        Ok(folder)
    }

    /// The flags folder of a commit read before.
    fn folder_of(&self, commit: Oid) -> Option<Oid> {
        self.seen.get(&commit).copied().flatten()
    }

    /// Credits a commit whose flags folder is `folder` with what it changed itself, given
    /// its parents' flags folders.
    fn credit(
        &mut self,
        commit: RawCommit,
        parents: &[Option<Oid>],
        folder: Option<Oid>,
    ) -> anyhow::Result<()> {
        let mut deltas = std::mem::take(&mut self.deltas);
        own_changes(&mut self.objects, parents, folder, &mut deltas)?;
        self.record(commit, &mut deltas);
        self.deltas = deltas;
        Ok(())
    }

    /// The changes of one commit, if it made any, credited to it.
    fn record(&mut self, commit: RawCommit, deltas: &mut Vec<FileDelta>) {
        if !deltas.is_empty() {
            let index = self.history.push_commit(commit);
            record(&mut self.history, index, deltas);
        }
    }
}

/// Where the flags folder is in a commit's tree: where its `flagctl.toml` says, kept for
/// as long as that file does not change.
struct FlagsPath {
    config_path: String,
    prefix: String,
    config_blob: Option<Oid>,
    flags_path: String,
}

impl FlagsPath {
    fn new(prefix: &str) -> FlagsPath {
        FlagsPath {
            config_path: join(prefix, CONFIG_FILE),
            prefix: prefix.to_string(),
            config_blob: None,
            flags_path: join(prefix, "flags"),
        }
    }

    /// The id of the flags folder in the tree `root`, if there is one.
    fn folder(&mut self, objects: &mut Objects, root: Oid) -> anyhow::Result<Option<Oid>> {
        let blob = objects.blob(root, &self.config_path)?;
        if blob != self.config_blob {
            self.config_blob = blob;
            let flags_dir = match blob {
                Some(id) => flags_dir_of(&objects.blob_data(id)?),
                None => "flags".to_string(),
            };
            self.flags_path = join(&self.prefix, &flags_dir);
        }
        objects.folder(root, &self.flags_path)
    }
}

/// The commits a merge brings in: reachable from its merged parents `heads` and not
/// `seen` (not reachable from its first parent), each read once, parents before children.
fn merged_side(
    objects: &Objects,
    seen: &HashMap<Oid, Option<Oid>>,
    heads: &[Oid],
) -> anyhow::Result<Vec<RawCommit>> {
    let mut order = Vec::new();
    let mut reached: HashSet<Oid> = HashSet::new();
    // A depth-first walk: a commit leaves the stack once all its parents have.
    let mut stack: Vec<(RawCommit, usize)> = Vec::new();
    let mut new = |id: &Oid| !seen.contains_key(id) && reached.insert(*id);
    for head in heads {
        if new(head) {
            stack.push((objects.commit(*head)?, 0));
        }
        while let Some((commit, next)) = stack.last_mut() {
            let parent = commit.parents().nth(*next);
            *next += 1;
            match parent {
                Some(parent) => {
                    if new(&parent) {
                        stack.push((objects.commit(parent)?, 0));
                    }
                }
                None => order.extend(stack.pop().map(|(commit, _)| commit)),
            }
        }
    }
    Ok(order)
}

/// What a commit changed itself, into `out`: the files of its flags folder `folder` that
/// differ from every parent's, compared with the first parent (for a merge, a file taken
/// from one side was changed where that side changed it).
fn own_changes(
    objects: &mut Objects,
    parents: &[Option<Oid>],
    folder: Option<Oid>,
    out: &mut Vec<FileDelta>,
) -> anyhow::Result<()> {
    out.clear();
    if parents.contains(&folder) {
        objects.skip_commit();
        return Ok(());
    }
    let (first, merged) = parents.split_first().unwrap_or((&None, &[]));
    // A merge's other sides first: their trees are the ones at hand, and a merge that
    // took every file from one of them needs no other comparison.
    let mut differing: Option<HashSet<String>> = None;
    for side in merged {
        let mut theirs = Vec::new();
        diff_trees(objects, *side, folder, "", &mut theirs)?;
        let paths = theirs.into_iter().map(|delta| delta.path);
        let paths: HashSet<String> = match &differing {
            None => paths.collect(),
            Some(before) => paths.filter(|path| before.contains(path)).collect(),
        };
        let none = paths.is_empty();
        differing = Some(paths);
        if none {
            break;
        }
    }
    if differing.as_ref().is_none_or(|paths| !paths.is_empty()) {
        diff_trees(objects, *first, folder, "", out)?;
        if let Some(paths) = differing {
            out.retain(|delta| paths.contains(&delta.path));
        }
    }
    objects.next_commit();
    Ok(())
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
    let (old, new) = (
        old.map(|id| objects.tree(id)).transpose()?,
        new.map(|id| objects.tree(id)).transpose()?,
    );
    let left = old.iter().flat_map(|t| t.entries());
    let right = new.iter().flat_map(|t| t.entries());
    let mut subtrees = Vec::new();
    for (a, b) in objects::pair_entries(left, right) {
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

/// Files one commit (by its index into `commits`) changed, as changes of flag keys.
fn record(history: &mut History, commit: usize, deltas: &mut Vec<FileDelta>) {
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
fn texts(git: Option<&Repository>, change: &Change) -> (Option<String>, Option<String>) {
    match git {
        Some(git) => (
            blob_text(git, change.old_blob),
            blob_text(git, change.new_blob),
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
    /// The first paragraph of the message's body — where flagctl writes the reason of a
    /// step — as one line of at most 300 characters (`…` marks a cut); `null` when the
    /// message has no body.
    pub body: Option<String>,
    pub kind: ChangeKind,
    /// What happened to the file, in words: `added at …`, `changed`, `moved … → …`,
    /// `deleted from …` (paths relative to the flags folder).
    pub change: String,
    /// The fields the commit changed.
    pub fields: Vec<FieldChange>,
}

/// A time as RFC 3339 with its numeric offset (`+00:00`, never `Z`), as git shows it.
pub(crate) fn rfc3339<S: serde::Serializer>(
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
    // Opened once for every change's texts.
    let git = git::open(&repo.root);
    history
        .changes(key)
        .iter()
        .rev()
        .map(|change| {
            let commit = &history.commits[change.commit];
            let (old, new) = texts(git.as_ref(), change);
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
                body: history.body(change.commit).map(str::to_owned),
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
