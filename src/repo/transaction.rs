//! One transaction for every command that changes flag files: a repository-wide lock
//! held across load, check, write and commit; files replaced only if they are still what
//! was read; a commit built from HEAD plus exactly the touched paths; the branch moved only
//! if HEAD is still the commit that was read; and the work tree, the index and HEAD all
//! changing or none of them.
//!
//! The steps, in order: take `index.lock` as git does (so no git command runs alongside),
//! write a journal (each path with the blob ids of its texts), write the files, stage them into a private copy of the index, run the
//! user's `pre-commit`, `prepare-commit-msg` and `commit-msg` hooks against that index,
//! create the commit (through `git commit-tree` when `commit.gpgsign` is set, so it is
//! signed as the user's own commits are), move the branch with a compare-and-swap, install
//! the index, and drop the lock and the journal. A failure undoes every step already
//! taken. A process killed between steps leaves its journal behind; the next transaction
//! finishes the step when the branch already moved to a commit on the old one holding the
//! journal's blobs, and undoes it when it did not.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use git2::{IndexEntry, IndexTime, ObjectType, Oid, Repository};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{confine, git};
use crate::fsio::{replace_atomic, write_atomic};

/// One file a command changes, by its path relative to the flag repository root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    /// The text that was read and checked; `None` when the file must not exist yet.
    pub before: Option<String>,
    /// The new text; `None` deletes the file.
    pub after: Option<String>,
}

/// How a transaction commits.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// Only write the files (`--no-commit`).
    pub no_commit: bool,
    /// Skip the `pre-commit`, `prepare-commit-msg` and `commit-msg` hooks (`--no-verify`).
    pub no_verify: bool,
    /// Commit on a detached HEAD (`--force`).
    pub allow_detached: bool,
    /// The author, where git's environment names one (`GIT_AUTHOR_*`).
    pub author: Identity,
    /// The committer, where git's environment names one (`GIT_COMMITTER_*`).
    pub committer: Identity,
}

/// Who a commit is by, and when, as far as it differs from the repository's configured
/// identity and the time of the commit: what `git commit` reads from `GIT_AUTHOR_NAME`,
/// `GIT_AUTHOR_EMAIL` and `GIT_AUTHOR_DATE` (and their `GIT_COMMITTER_` kin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: Option<String>,
    pub email: Option<String>,
    pub time: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// What a transaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Applied {
    /// The new commit, when one was made.
    pub commit: Option<String>,
    /// Why nothing was committed, when nothing was: `--no-commit`, or no git repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_committed: Option<String>,
    /// What the hooks printed and what was recovered from an interrupted transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A step of the transaction, for failure injection in tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Write,
    Index,
    Hooks,
    Commit,
    Ref,
    Install,
    /// After the index is installed: only a crash can happen here.
    Cleanup,
}

/// The journal of a transaction in flight, kept in the git folder.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// The commit message's first line, for the recovery note.
    subject: String,
    /// The reference that moves: a branch, or `HEAD` when detached.
    reference: String,
    old: Option<String>,
    /// The new commit (in a journal an older flagctl left; this one tells its commit by
    /// its parent and blobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new: Option<String>,
    /// Whether `files` name the texts by their blob ids in git's object database (the
    /// texts themselves in a journal an older flagctl left).
    #[serde(default)]
    blobs: bool,
    files: Vec<FileChange>,
}

impl Journal {
    /// The text `held` stands for: itself, or the blob it names.
    fn text(&self, git: &Repository, held: Option<&str>) -> anyhow::Result<Option<String>> {
        let Some(held) = held else {
            return Ok(None);
        };
        if !self.blobs {
            return Ok(Some(held.to_string()));
        }
        let blob = Oid::from_str(held)
            .and_then(|id| git.find_blob(id))
            .with_context(|| format!("the journal names blob {held}, which git does not have"))?;
        String::from_utf8(blob.content().to_vec())
            .map(Some)
            .with_context(|| format!("blob {held} of the journal is not UTF-8"))
    }
}

const JOURNAL: &str = "flagctl-journal.json";
const PRIVATE_INDEX: &str = "flagctl-index";
const MESSAGE_FILE: &str = "FLAGCTL_COMMIT_EDITMSG";
const LOCK: &str = "flagctl.lock";

/// A change in progress: holds the repository-wide lock until dropped.
pub struct Transaction {
    root: PathBuf,
    git: Option<Repository>,
    options: CommitOptions,
    _lock: File,
    recovered: Vec<String>,
    #[cfg(test)]
    fail_at: Option<(Step, bool)>,
}

impl Transaction {
    /// Takes the repository-wide lock (waiting for another flagctl to finish), then
    /// finishes or undoes what an interrupted flagctl left half-done. Load the repository
    /// after this, so that what is checked is what is changed.
    pub fn begin(root: &Path, options: CommitOptions) -> anyhow::Result<Transaction> {
        let git = git::open(root);
        let lock = match &git {
            // The lock lives with the objects and refs all work trees share.
            Some(g) => OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(g.commondir().join(LOCK))
                .with_context(|| format!("cannot open {}", g.commondir().join(LOCK).display()))?,
            None => File::open(root).with_context(|| format!("cannot open {}", root.display()))?,
        };
        lock.lock()
            .with_context(|| format!("cannot lock {}", root.display()))?;
        let mut transaction = Transaction {
            root: root.to_path_buf(),
            git,
            options,
            _lock: lock,
            recovered: Vec::new(),
            #[cfg(test)]
            fail_at: None,
        };
        transaction.recover()?;
        Ok(transaction)
    }

    /// The commit HEAD points at, when there is one.
    pub fn head(&self) -> Option<String> {
        let head = self.git.as_ref()?.head().ok()?;
        head.target().map(|id| id.to_string())
    }

    /// Writes `changes` and, unless told not to or outside git, commits exactly them with
    /// `message`. Refuses, changing nothing, when a file is no longer what was read, when
    /// the index holds other staged changes or one of the paths has uncommitted changes,
    /// when git is busy (`index.lock`), on a detached HEAD, or when a hook fails.
    pub fn apply(mut self, changes: &[FileChange], message: &str) -> anyhow::Result<Applied> {
        for change in changes {
            self.check_unchanged(change)?;
        }
        let mut applied = Applied {
            notes: std::mem::take(&mut self.recovered),
            ..Applied::default()
        };
        let git = match self.git.take() {
            Some(git) if !self.options.no_commit => git,
            git => {
                applied.not_committed = Some(if git.is_some() {
                    "not committed (--no-commit)".into()
                } else {
                    "not a git repository: not committed".into()
                });
                self.write_files(changes, true).map_err(nothing_changed)?;
                return Ok(applied);
            }
        };
        let commit = Commit::prepare(&self, &git, changes, message)?;
        let (id, notes) = commit.run(&self, &git)?;
        applied.commit = Some(id.to_string());
        applied.notes.extend(notes);
        Ok(applied)
    }

    /// A file is replaced only if it is still the one that was read.
    fn check_unchanged(&self, change: &FileChange) -> anyhow::Result<()> {
        let now =
            confine::read_text(&self.root, &change.path).map_err(|why| anyhow::anyhow!("{why}"))?;
        if now != change.before {
            bail!(
                "{} changed while flagctl was working on it; nothing was changed\n\
                 help: run the command again",
                change.path
            );
        }
        Ok(())
    }

    /// Writes every file, or none: a failure puts back the ones already written. `durable`
    /// waits for each file to reach the disk before it replaces the old one; a commit does
    /// without, as both texts are in git's object database and the journal names them.
    fn write_files(&self, changes: &[FileChange], durable: bool) -> anyhow::Result<()> {
        // On every core: each file is its own.
        let root = self.root.as_path();
        let mut results: Vec<anyhow::Result<()>> = changes
            .par_iter()
            .map(|change| write_file(root, &change.path, change.after.as_deref(), durable))
            .collect();
        if let Some(failed) = results.iter().position(Result::is_err) {
            let written: Vec<FileChange> = changes
                .iter()
                .zip(&results)
                .filter(|(_, result)| result.is_ok())
                .map(|(change, _)| change.clone())
                .collect();
            restore_files(&self.root, &written);
            return results.swap_remove(failed);
        }
        #[cfg(test)]
        self.fail(Step::Write)
            .inspect_err(|_| restore_files(&self.root, changes))?;
        Ok(())
    }

    /// Finishes or undoes the transaction a killed flagctl left behind.
    fn recover(&mut self) -> anyhow::Result<()> {
        let Some(git) = &self.git else {
            return Ok(());
        };
        let dir = git.path().to_path_buf();
        let journal_path = dir.join(JOURNAL);
        let text = match std::fs::read_to_string(&journal_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", journal_path.display()));
            }
        };
        let journal: Journal = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a flagctl journal; remove it once no flagctl is running",
                journal_path.display()
            )
        })?;
        let current = git
            .refname_to_id(&journal.reference)
            .ok()
            .map(|id| id.to_string());
        let finished = match &journal.new {
            Some(new) => current.as_ref() == Some(new),
            None => current != journal.old && self.committed(git, &journal, current.as_deref()),
        };
        if finished {
            for change in &journal.files {
                let after = journal.text(git, change.after.as_deref())?;
                write_file(&self.root, &change.path, after.as_deref(), true)?;
            }
            let private = dir.join(PRIVATE_INDEX);
            if private.exists() {
                std::fs::rename(&private, dir.join("index"))
                    .context("cannot install the git index")?;
            }
            self.recovered.push(format!(
                "an interrupted `{}` was finished: it is commit {}",
                journal.subject,
                super::short_id(current.as_deref().unwrap_or_default())
            ));
        } else {
            let mut kept = Vec::new();
            for change in &journal.files {
                let now = confine::read_text(&self.root, &change.path).ok().flatten();
                let before = journal.text(git, change.before.as_deref())?;
                if now == journal.text(git, change.after.as_deref())? {
                    write_file(&self.root, &change.path, before.as_deref(), true)?;
                } else if now != before {
                    kept.push(change.path.clone());
                }
            }
            let _ = std::fs::remove_file(dir.join(PRIVATE_INDEX));
            let mut note = format!(
                "an interrupted `{}` was undone: nothing of it was committed",
                journal.subject
            );
            if !kept.is_empty() {
                note.push_str(&format!(
                    " ({} changed since and kept as they are)",
                    kept.join(", ")
                ));
            }
            self.recovered.push(note);
        }
        let _ = std::fs::remove_file(dir.join("index.lock"));
        let _ = std::fs::remove_file(dir.join(MESSAGE_FILE));
        std::fs::remove_file(&journal_path)
            .with_context(|| format!("cannot remove {}", journal_path.display()))?;
        Ok(())
    }

    /// Whether `current` is the commit the journal's transaction made: its one parent is
    /// the journal's old commit, and each of its paths holds the journal's new blob (or is
    /// gone).
    fn committed(&self, git: &Repository, journal: &Journal, current: Option<&str>) -> bool {
        let Some(commit) = current
            .and_then(|id| Oid::from_str(id).ok())
            .and_then(|id| git.find_commit(id).ok())
        else {
            return false;
        };
        let parents: Vec<String> = commit.parent_ids().map(|id| id.to_string()).collect();
        if !journal.blobs || parents != journal.old.iter().cloned().collect::<Vec<_>>() {
            return false;
        }
        let Ok(tree) = commit.tree() else {
            return false;
        };
        journal.files.iter().all(|change| {
            let Ok(path) = git::git_path(git, &self.root, &change.path) else {
                return false;
            };
            let held = tree
                .get_path(Path::new(&path))
                .ok()
                .map(|e| e.id().to_string());
            held == change.after
        })
    }

    #[cfg(test)]
    fn fail(&self, step: Step) -> anyhow::Result<()> {
        match self.fail_at {
            Some((at, _)) if at == step => bail!("injected failure at {step:?}"),
            _ => Ok(()),
        }
    }
}

/// Says that a failure changed nothing, before the help line when there is one.
fn nothing_changed(error: anyhow::Error) -> anyhow::Error {
    let text = format!("{error:#}");
    if text.contains("nothing was changed") {
        return error;
    }
    match text.split_once("\nhelp: ") {
        Some((what, help)) => anyhow::anyhow!("{what}\nnothing was changed\nhelp: {help}"),
        None => anyhow::anyhow!("{text}\nnothing was changed"),
    }
}

/// Writes (or, for `None`, deletes) one file of the work tree atomically; never through a
/// symlink, never outside the repository. `durable`: synced to the disk before it replaces
/// the old file.
fn write_file(root: &Path, rel: &str, text: Option<&str>, durable: bool) -> anyhow::Result<()> {
    let path = confine::resolve(root, rel, true).map_err(|why| anyhow::anyhow!("{why}"))?;
    match text {
        Some(text) if durable => write_atomic(&path, text, true),
        Some(text) => replace_atomic(&path, text),
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {rel}"))
            }
            _ => Ok(()),
        },
    }
}

/// Puts files back as they were read; best effort, on the way out of a failure.
fn restore_files(root: &Path, changes: &[FileChange]) {
    for change in changes.iter().rev() {
        let _ = write_file(root, &change.path, change.before.as_deref(), true);
    }
}

/// Where the branch is: what moves, and from which commit.
struct Head {
    reference: String,
    old: Option<Oid>,
}

/// A commit being made: everything decided before anything visible changes.
struct Commit<'c> {
    changes: &'c [FileChange],
    message: String,
    head: Head,
    /// Each change's path relative to the git work tree.
    git_paths: Vec<String>,
    /// Each change's texts as blobs in git's object database: what the journal names, and
    /// (`after`) what the index and the commit take.
    blobs: Vec<(Option<Oid>, Option<Oid>)>,
    dir: PathBuf,
    workdir: PathBuf,
    hooks: PathBuf,
    author: git2::Signature<'static>,
    committer: git2::Signature<'static>,
}

impl<'c> Commit<'c> {
    /// Checks everything that can refuse the commit, before anything is written.
    fn prepare(
        tx: &Transaction,
        git: &Repository,
        changes: &'c [FileChange],
        message: &str,
    ) -> anyhow::Result<Commit<'c>> {
        let head = head(git, tx.options.allow_detached)?;
        let author = git::signature(git, &tx.options.author)?;
        let committer = git::signature(git, &tx.options.committer)?;
        let git_paths = changes
            .iter()
            .map(|c| git::git_path(git, &tx.root, &c.path))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let uncommitted = git::Uncommitted::read(git)?;
        uncommitted.ensure_nothing_else_staged(&git_paths)?;
        for (change, path) in changes.iter().zip(&git_paths) {
            if uncommitted.is_dirty(path) {
                bail!(
                    "{} has uncommitted changes; flagctl commits only its own edit\n\
                     help: commit or stash them first, or pass --no-commit",
                    change.path
                );
            }
        }
        let workdir = git
            .workdir()
            .context("the git repository has no work tree")?
            .to_path_buf();
        // Objects no commit reaches yet are invisible, and `git gc` prunes them if the
        // commit never comes. Written on every core: git's object database takes writes
        // from several threads.
        let odb = git.odb().context("cannot open git's object database")?;
        let write = |text: &str| -> anyhow::Result<Oid> {
            odb.write(ObjectType::Blob, text.as_bytes())
                .context("cannot write to git's object database")
        };
        // A text that was read is, as its path is clean, usually the index's own blob,
        // which need not be written again; not when a filter (line endings, LFS) stands
        // between the work tree and git.
        let indexed: Vec<Option<Oid>> = git_paths.iter().map(|p| uncommitted.blob(p)).collect();
        let blobs = changes
            .par_iter()
            .zip(&indexed)
            .map(|(c, indexed)| {
                let before = match &c.before {
                    Some(text) => {
                        let id = Oid::hash_object(ObjectType::Blob, text.as_bytes())?;
                        if *indexed == Some(id) {
                            Some(id)
                        } else {
                            Some(write(text)?)
                        }
                    }
                    None => None,
                };
                Ok((before, c.after.as_deref().map(write).transpose()?))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Commit {
            changes,
            message: message.to_string(),
            head,
            git_paths,
            blobs,
            dir: git.path().to_path_buf(),
            hooks: hooks_dir(git, &workdir),
            workdir,
            author,
            committer,
        })
    }

    /// Runs the steps; on failure, undoes what was done and says that nothing changed.
    fn run(self, tx: &Transaction, git: &Repository) -> anyhow::Result<(Oid, Vec<String>)> {
        let index_lock = self.dir.join("index.lock");
        if let Err(e) = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&index_lock)
        {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                bail!(
                    "{} exists: another git process is working in this repository; nothing was changed\n\
                     help: wait for it and run the command again; if no git process is running, remove the file",
                    index_lock.display()
                );
            }
            return Err(e).with_context(|| format!("cannot create {}", index_lock.display()));
        }
        let journal = Journal {
            subject: self.message.lines().next().unwrap_or_default().to_string(),
            reference: self.head.reference.clone(),
            old: self.head.old.map(|id| id.to_string()),
            new: None,
            blobs: true,
            files: self
                .changes
                .iter()
                .zip(&self.blobs)
                .map(|(change, (before, after))| FileChange {
                    path: change.path.clone(),
                    before: before.map(|id| id.to_string()),
                    after: after.map(|id| id.to_string()),
                })
                .collect(),
        };
        let mut undo = Undo {
            tx,
            commit: &self,
            files_written: false,
            moved: None,
        };
        let result = (|| -> anyhow::Result<Oid> {
            self.write_journal(&journal)?;
            tx.write_files(self.changes, false)?;
            undo.files_written = true;
            let private = self.stage()?;
            #[cfg(test)]
            tx.fail(Step::Index)?;
            let message = if tx.options.no_verify {
                self.message.clone()
            } else {
                self.run_hooks(&private)?
            };
            #[cfg(test)]
            tx.fail(Step::Hooks)?;
            let tree = self.tree(git)?;
            let id = self.create(git, tree, &message)?;
            // The journal is not written again: a commit on `old` with exactly the
            // journal's blobs at its paths says the branch moved (see `recover`).
            #[cfg(test)]
            tx.fail(Step::Commit)?;
            self.move_ref(git, id, &message)?;
            undo.moved = Some(id);
            #[cfg(test)]
            tx.fail(Step::Ref)?;
            #[cfg(test)]
            tx.fail(Step::Install)?;
            std::fs::rename(&private, self.dir.join("index"))
                .context("cannot install the git index")?;
            // Nothing can fail from here on; a process killed now leaves only the lock
            // and the journal, which the next transaction clears.
            #[cfg(test)]
            tx.fail(Step::Cleanup)?;
            Ok(id)
        })();
        match result {
            Ok(id) => {
                undo.disarm();
                let _ = std::fs::remove_file(&index_lock);
                let _ = std::fs::remove_file(self.dir.join(JOURNAL));
                let _ = std::fs::remove_file(self.dir.join(MESSAGE_FILE));
                let notes = self.hook("post-commit", &[], None).unwrap_or_default();
                Ok((id, notes.into_iter().collect()))
            }
            Err(e) => {
                #[cfg(test)]
                if tx.fail_at.is_some_and(|(_, crash)| crash) {
                    // A killed process undoes nothing: the journal and the lock stay.
                    undo.disarm();
                    return Err(e);
                }
                undo.run(git);
                let _ = std::fs::remove_file(&index_lock);
                Err(nothing_changed(e))
            }
        }
    }

    fn write_journal(&self, journal: &Journal) -> anyhow::Result<()> {
        let text = serde_json::to_string(journal).context("cannot encode the journal")?;
        write_atomic(&self.dir.join(JOURNAL), &text, true)
    }

    /// A copy of the index with the changed paths staged; the real index is replaced by
    /// it only once the branch has moved.
    fn stage(&self) -> anyhow::Result<PathBuf> {
        let private = self.dir.join(PRIVATE_INDEX);
        let _ = std::fs::remove_file(&private);
        match std::fs::copy(self.dir.join("index"), &private) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context("cannot copy the git index"),
        }
        let mut index = git2::Index::open(&private).context("cannot read the git index")?;
        self.put(&mut index)?;
        index.write().context("cannot write the git index")?;
        Ok(private)
    }

    /// Puts every change into `index`: the new blob of a written file, with its stat data,
    /// or the removal of a deleted one.
    fn put(&self, index: &mut git2::Index) -> anyhow::Result<()> {
        for ((change, path), (_, after)) in
            self.changes.iter().zip(&self.git_paths).zip(&self.blobs)
        {
            match after {
                Some(blob) => {
                    let blob = *blob;
                    let metadata = std::fs::metadata(self.workdir.join(path))
                        .with_context(|| format!("cannot read {}", change.path))?;
                    index.add(&entry(path, blob, &metadata))?;
                }
                None => index.remove_path(Path::new(path))?,
            }
        }
        Ok(())
    }

    /// HEAD's tree with exactly the changed paths replaced: whatever else the index holds
    /// stays out of the commit.
    fn tree(&self, git: &Repository) -> anyhow::Result<Oid> {
        let mut index = git2::Index::new()?;
        if let Some(old) = self.head.old {
            index.read_tree(&git.find_commit(old)?.tree()?)?;
        }
        self.put(&mut index)?;
        Ok(index.write_tree_to(git)?)
    }

    /// The commit object; signed through `git commit-tree` when `commit.gpgsign` is set.
    fn create(&self, git: &Repository, tree: Oid, message: &str) -> anyhow::Result<Oid> {
        let parents: Vec<git2::Commit> = match self.head.old {
            Some(id) => vec![git.find_commit(id)?],
            None => Vec::new(),
        };
        let sign = git
            .config()
            .and_then(|c| c.get_bool("commit.gpgsign"))
            .unwrap_or(false);
        if !sign {
            let tree = git.find_tree(tree)?;
            let parents: Vec<&git2::Commit> = parents.iter().collect();
            return git
                .commit(
                    None,
                    &self.author,
                    &self.committer,
                    message,
                    &tree,
                    &parents,
                )
                .map_err(|e| anyhow::anyhow!("cannot commit: {}", e.message()));
        }
        let message_file = self.dir.join(MESSAGE_FILE);
        std::fs::write(&message_file, message).context("cannot write the commit message")?;
        let mut command = Command::new("git");
        command
            .current_dir(&self.workdir)
            .args(["commit-tree", &tree.to_string(), "-S", "-F"])
            .arg(&message_file);
        for parent in &parents {
            command.args(["-p", &parent.id().to_string()]);
        }
        let output = command.stdin(Stdio::null()).output().map_err(|e| {
            anyhow::anyhow!(
                "commit.gpgsign is set, and signing needs the git program: {e}\n\
                 help: install git, or pass --no-commit and commit yourself"
            )
        })?;
        if !output.status.success() {
            bail!(
                "commit.gpgsign is set, and `git commit-tree -S` failed: {}\n\
                 help: check your signing key (git config user.signingkey), or pass --no-commit and commit yourself",
                crate::report::sanitize(String::from_utf8_lossy(&output.stderr).trim())
            );
        }
        let id = String::from_utf8_lossy(&output.stdout);
        Oid::from_str(id.trim()).context("git commit-tree printed no commit id")
    }

    /// Moves the branch to `id` only if it still points where it did when read.
    fn move_ref(&self, git: &Repository, id: Oid, message: &str) -> anyhow::Result<()> {
        let subject = message.lines().next().unwrap_or_default();
        let result = match self.head.old {
            Some(old) => git
                .reference_matching(
                    &self.head.reference,
                    id,
                    true,
                    old,
                    &format!("commit: {subject}"),
                )
                .map(drop),
            None => git
                .reference(
                    &self.head.reference,
                    id,
                    false,
                    &format!("commit (initial): {subject}"),
                )
                .map(drop),
        };
        result.map_err(|e| {
            anyhow::anyhow!(
                "{} moved while flagctl was committing ({})\n\
                 help: run the command again",
                self.head.reference,
                e.message()
            )
        })
    }

    /// Runs the hooks a `git commit` runs before committing, against the private index;
    /// returns the message as `commit-msg` left it.
    fn run_hooks(&self, index: &Path) -> anyhow::Result<String> {
        let message_file = self.dir.join(MESSAGE_FILE);
        std::fs::write(&message_file, &self.message).context("cannot write the commit message")?;
        self.hook("pre-commit", &[], Some(index))?;
        let file = message_file.to_string_lossy().into_owned();
        self.hook("prepare-commit-msg", &[&file, "message"], Some(index))?;
        self.hook("commit-msg", &[&file], Some(index))?;
        let message = std::fs::read_to_string(&message_file)
            .context("cannot read the commit message back")?;
        if message.trim().is_empty() {
            bail!("the commit-msg hook left an empty commit message");
        }
        Ok(message)
    }

    /// Runs one hook if it exists and is executable; its output comes back as a note, and
    /// a failure is an error that carries it.
    fn hook(
        &self,
        name: &str,
        args: &[&str],
        index: Option<&Path>,
    ) -> anyhow::Result<Option<String>> {
        let Some(path) = executable(&self.hooks.join(name)) else {
            return Ok(None);
        };
        let mut command = Command::new(&path);
        command
            .args(args)
            .current_dir(&self.workdir)
            .stdin(Stdio::null());
        if let Some(index) = index {
            command.env("GIT_INDEX_FILE", index);
        }
        let output = command
            .output()
            .with_context(|| format!("cannot run the {name} hook ({})", path.display()))?;
        let text = crate::report::sanitize(
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
            .trim(),
        );
        if !output.status.success() {
            let code = output
                .status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| c.to_string());
            let said = if text.is_empty() {
                String::new()
            } else {
                format!(":\n{text}")
            };
            bail!(
                "the {name} hook failed (exit {code}){said}\n\
                 help: fix what it reports, or pass --no-verify to skip the hooks"
            );
        }
        Ok((!text.is_empty()).then(|| format!("{name} hook: {text}")))
    }
}

/// Undoes the visible steps of a failed commit.
struct Undo<'t> {
    tx: &'t Transaction,
    commit: &'t Commit<'t>,
    files_written: bool,
    moved: Option<Oid>,
}

impl Undo<'_> {
    fn disarm(&mut self) {
        self.files_written = false;
        self.moved = None;
    }

    fn run(&mut self, git: &Repository) {
        let commit = self.commit;
        if let (Some(new), Some(old)) = (self.moved, commit.head.old) {
            let _ = git.reference_matching(
                &commit.head.reference,
                old,
                true,
                new,
                "flagctl: undo a failed commit",
            );
        } else if self.moved.is_some() {
            let _ = git
                .find_reference(&commit.head.reference)
                .and_then(|mut r| r.delete());
        }
        if self.files_written {
            restore_files(&self.tx.root, commit.changes);
        }
        let _ = std::fs::remove_file(commit.dir.join(PRIVATE_INDEX));
        let _ = std::fs::remove_file(commit.dir.join(MESSAGE_FILE));
        let _ = std::fs::remove_file(commit.dir.join(JOURNAL));
        self.disarm();
    }
}

/// HEAD's branch and commit; a detached HEAD only when allowed.
fn head(git: &Repository, allow_detached: bool) -> anyhow::Result<Head> {
    if git.head_detached().unwrap_or(false) {
        if !allow_detached {
            bail!(
                "HEAD is detached: a commit here belongs to no branch and is easily lost; nothing was changed\n\
                 help: check out a branch (`git switch BRANCH`), or pass --force-detached to commit on the detached HEAD"
            );
        }
        let old = git.head()?.target();
        return Ok(Head {
            reference: "HEAD".into(),
            old,
        });
    }
    let reference = git
        .find_reference("HEAD")?
        .symbolic_target()
        .ok()
        .flatten()
        .context("HEAD names no branch")?
        .to_string();
    let old = git.refname_to_id(&reference).ok();
    Ok(Head { reference, old })
}

/// An index entry for a file just written, with its stat data so git need not re-read it.
fn entry(path: &str, id: Oid, metadata: &std::fs::Metadata) -> IndexEntry {
    #[cfg(unix)]
    use std::os::unix::fs::MetadataExt;
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid, mode) = (
        IndexTime::new(metadata.ctime() as i32, metadata.ctime_nsec() as u32),
        IndexTime::new(metadata.mtime() as i32, metadata.mtime_nsec() as u32),
        metadata.dev() as u32,
        metadata.ino() as u32,
        metadata.uid(),
        metadata.gid(),
        if metadata.mode() & 0o111 != 0 {
            0o100755
        } else {
            0o100644
        },
    );
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid, mode) = (
        IndexTime::new(0, 0),
        IndexTime::new(0, 0),
        0,
        0,
        0,
        0,
        0o100644,
    );
    IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode,
        uid,
        gid,
        file_size: metadata.len() as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

/// Where hooks live: `core.hooksPath` (relative to the work tree) when set, else the
/// git folder's `hooks/`.
fn hooks_dir(git: &Repository, workdir: &Path) -> PathBuf {
    match git.config().and_then(|c| c.get_path("core.hooksPath")) {
        Ok(path) if path.is_absolute() => path,
        Ok(path) => workdir.join(path),
        Err(_) => git.commondir().join("hooks"),
    }
}

/// `path` when it is an executable file, as git requires of a hook.
fn executable(path: &Path) -> Option<PathBuf> {
    let metadata = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o111 == 0 {
            return None;
        }
    }
    metadata.is_file().then(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "a = 1\n";
    const AFTER: &str = "a = 2\n";

    /// A repository with one committed file, `flags/s/a.toml`.
    fn repository() -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let git = Repository::init(dir.path()).unwrap();
        let mut config = git.config().unwrap();
        config.set_str("user.name", "Test").unwrap();
        config.set_str("user.email", "test@example.com").unwrap();
        commit_file(&git, "flags/s/a.toml", BEFORE, "init");
        (dir, git)
    }

    /// Writes `text` at `path` of the work tree, stages it and commits it on HEAD.
    fn commit_file(git: &Repository, path: &str, text: &str, message: &str) {
        let file = git.workdir().unwrap().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        let mut index = git.index().unwrap();
        index.add_path(Path::new(path)).unwrap();
        index.write().unwrap();
        let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = git.signature().unwrap();
        let parent = git.head().ok().and_then(|head| head.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        git.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )
        .unwrap();
    }

    /// HEAD, the index's blob of the file, the work tree's text, and what lies about.
    fn state(dir: &Path) -> (Oid, Oid, String, Vec<&'static str>) {
        let git = Repository::open(dir).unwrap();
        let head = git.head().unwrap().target().unwrap();
        let index = git.index().unwrap();
        let staged = index.get_path(Path::new("flags/s/a.toml"), 0).unwrap().id;
        let text = std::fs::read_to_string(dir.join("flags/s/a.toml")).unwrap();
        let left: Vec<&str> = [JOURNAL, PRIVATE_INDEX, MESSAGE_FILE, "index.lock"]
            .into_iter()
            .filter(|name| git.path().join(name).exists())
            .collect();
        (head, staged, text, left)
    }

    fn change() -> Vec<FileChange> {
        vec![FileChange {
            path: "flags/s/a.toml".into(),
            before: Some(BEFORE.into()),
            after: Some(AFTER.into()),
        }]
    }

    const STEPS: [Step; 6] = [
        Step::Write,
        Step::Index,
        Step::Hooks,
        Step::Commit,
        Step::Ref,
        Step::Install,
    ];

    #[test]
    fn commits_the_change_to_head_index_and_work_tree() {
        let (dir, git) = repository();
        let head = git.head().unwrap().target().unwrap();
        let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        let applied = tx.apply(&change(), "flagctl kill: a\n").unwrap();
        let (new_head, staged, text, left) = state(dir.path());
        assert_eq!(applied.commit, Some(new_head.to_string()));
        assert_eq!(
            git.find_commit(new_head).unwrap().parent_id(0).unwrap(),
            head
        );
        assert_eq!(staged, git.blob(AFTER.as_bytes()).unwrap());
        assert_eq!(text, AFTER);
        assert!(left.is_empty(), "{left:?}");
        let statuses = git.statuses(None).unwrap();
        assert!(
            statuses.is_empty(),
            "the work tree is clean after the commit"
        );
    }

    #[test]
    fn a_failure_at_any_step_changes_nothing() {
        for step in STEPS {
            let (dir, _git) = repository();
            let before = state(dir.path());
            let mut tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
            tx.fail_at = Some((step, false));
            let error = tx.apply(&change(), "flagctl kill: a\n").unwrap_err();
            assert!(
                format!("{error:#}").contains("nothing was changed"),
                "{step:?}: {error:#}"
            );
            assert_eq!(state(dir.path()), before, "after a failure at {step:?}");
        }
    }

    #[test]
    fn a_rerun_after_a_crash_finishes_or_undoes_the_step() {
        for step in STEPS.into_iter().chain([Step::Cleanup]) {
            let (dir, git) = repository();
            let before = state(dir.path());
            let mut tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
            tx.fail_at = Some((step, true));
            tx.apply(&change(), "flagctl kill: a\n").unwrap_err();
            let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
            let note = tx.recovered.join("; ");
            let after = state(dir.path());
            assert!(after.3.is_empty(), "{step:?} left {:?}", after.3);
            if matches!(step, Step::Ref | Step::Install | Step::Cleanup) {
                assert!(note.contains("was finished"), "{step:?}: {note}");
                assert_ne!(after.0, before.0);
                assert_eq!(after.1, git.blob(AFTER.as_bytes()).unwrap());
                assert_eq!(after.2, AFTER);
            } else {
                assert!(note.contains("was undone"), "{step:?}: {note}");
                assert_eq!(after, before, "after a crash at {step:?}");
            }
        }
    }

    #[test]
    fn the_journal_names_blobs_and_an_older_journal_of_texts_is_still_undone() {
        let (dir, git) = repository();
        let before = state(dir.path());
        let mut tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        tx.fail_at = Some((Step::Hooks, true));
        tx.apply(&change(), "flagctl kill: a\n").unwrap_err();
        let text = std::fs::read_to_string(git.path().join(JOURNAL)).unwrap();
        assert!(!text.contains(AFTER.trim()), "{text}");
        let journal: Journal = serde_json::from_str(&text).unwrap();
        assert!(journal.blobs);
        assert_eq!(
            journal.files[0].after,
            Some(git.blob(AFTER.as_bytes()).unwrap().to_string())
        );
        // A journal an older flagctl wrote holds the texts themselves.
        let older = serde_json::json!({
            "subject": "flagctl kill: a",
            "reference": journal.reference,
            "old": journal.old,
            "new": null,
            "files": [{"path": "flags/s/a.toml", "before": BEFORE, "after": AFTER}],
        });
        std::fs::write(git.path().join(JOURNAL), older.to_string()).unwrap();
        let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        assert!(tx.recovered.join("; ").contains("was undone"));
        assert_eq!(state(dir.path()), before);
    }

    #[test]
    fn an_interrupted_step_puts_back_the_text_that_was_read_also_through_a_line_ending_filter() {
        let (dir, git) = repository();
        git.config()
            .unwrap()
            .set_bool("core.autocrlf", true)
            .unwrap();
        let crlf = "a = 1\r\n";
        commit_file(&git, "flags/s/a.toml", crlf, "crlf");
        // git holds `a = 1\n`: the work tree is clean through the filter.
        let index = git.index().unwrap();
        let staged = index.get_path(Path::new("flags/s/a.toml"), 0).unwrap().id;
        assert_eq!(staged, git.blob(b"a = 1\n").unwrap());
        assert!(git.statuses(None).unwrap().is_empty());
        let changes = vec![FileChange {
            path: "flags/s/a.toml".into(),
            before: Some(crlf.into()),
            after: Some("a = 2\r\n".into()),
        }];
        let mut tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        tx.fail_at = Some((Step::Hooks, true));
        tx.apply(&changes, "flagctl kill: a\n").unwrap_err();
        let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        assert!(tx.recovered.join("; ").contains("was undone"));
        let text = std::fs::read_to_string(dir.path().join("flags/s/a.toml")).unwrap();
        assert_eq!(text, crlf);
    }

    #[test]
    fn refuses_uncommitted_changes_to_its_paths_and_other_staged_changes() {
        let (dir, git) = repository();
        let refused = |changes: &[FileChange], what: &str| {
            let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
            let error = format!("{:#}", tx.apply(changes, "flagctl kill: a\n").unwrap_err());
            assert!(error.contains(what), "{error}");
        };
        // An untracked file of the same text is not committed work.
        std::fs::write(dir.path().join("flags/s/b.toml"), BEFORE).unwrap();
        let untracked = FileChange {
            path: "flags/s/b.toml".into(),
            before: Some(BEFORE.into()),
            after: Some(AFTER.into()),
        };
        refused(&[untracked], "uncommitted changes");
        // Another staged file is someone else's work.
        let mut index = git.index().unwrap();
        index.add_path(Path::new("flags/s/b.toml")).unwrap();
        index.write().unwrap();
        refused(&change(), "other staged changes (flags/s/b.toml)");
        index.remove_path(Path::new("flags/s/b.toml")).unwrap();
        index.write().unwrap();
        std::fs::remove_file(dir.path().join("flags/s/b.toml")).unwrap();
        // The file itself changed in the index.
        std::fs::write(dir.path().join("flags/s/a.toml"), "a = 5\n").unwrap();
        index.add_path(Path::new("flags/s/a.toml")).unwrap();
        index.write().unwrap();
        std::fs::write(dir.path().join("flags/s/a.toml"), BEFORE).unwrap();
        refused(&change(), "flags/s/a.toml has uncommitted changes");
    }

    #[test]
    fn refuses_while_git_holds_the_index_lock() {
        let (dir, git) = repository();
        std::fs::write(git.path().join("index.lock"), "").unwrap();
        let before = state(dir.path());
        let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        let error = tx.apply(&change(), "flagctl kill: a\n").unwrap_err();
        assert!(
            format!("{error:#}").contains("index.lock exists"),
            "{error:#}"
        );
        assert_eq!(state(dir.path()), before);
    }

    #[test]
    fn refuses_a_file_that_changed_since_it_was_read() {
        let (dir, _git) = repository();
        std::fs::write(dir.path().join("flags/s/a.toml"), "a = 3\n").unwrap();
        let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        let error = tx.apply(&change(), "flagctl kill: a\n").unwrap_err();
        assert!(format!("{error:#}").contains("changed while"), "{error:#}");
        let text = std::fs::read_to_string(dir.path().join("flags/s/a.toml")).unwrap();
        assert_eq!(text, "a = 3\n");
    }

    #[test]
    fn commits_any_path_of_the_repository_not_only_flag_files() {
        let (dir, git) = repository();
        let source = "services/ranking/deep/rank.py";
        commit_file(&git, source, "if flag():\n    a()\n", "code");
        let mut changes = change();
        changes.push(FileChange {
            path: source.into(),
            before: Some("if flag():\n    a()\n".into()),
            after: Some("a()\n".into()),
        });
        let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        let applied = tx.apply(&changes, "flagctl cleanup: flag\n").unwrap();
        let commit = git
            .find_commit(Oid::from_str(&applied.commit.unwrap()).unwrap())
            .unwrap();
        let blob = commit
            .tree()
            .unwrap()
            .get_path(Path::new(source))
            .unwrap()
            .to_object(&git)
            .unwrap()
            .peel_to_blob()
            .unwrap();
        assert_eq!(blob.content(), b"a()\n");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(source)).unwrap(),
            "a()\n"
        );
        assert!(git.statuses(None).unwrap().is_empty());
    }

    #[test]
    fn refuses_a_detached_head_unless_allowed() {
        let (dir, git) = repository();
        let head = git.head().unwrap().target().unwrap();
        git.set_head_detached(head).unwrap();
        let tx = Transaction::begin(dir.path(), CommitOptions::default()).unwrap();
        let error = tx.apply(&change(), "flagctl kill: a\n").unwrap_err();
        assert!(
            format!("{error:#}").contains("HEAD is detached"),
            "{error:#}"
        );
        let options = CommitOptions {
            allow_detached: true,
            ..CommitOptions::default()
        };
        let tx = Transaction::begin(dir.path(), options).unwrap();
        let applied = tx.apply(&change(), "flagctl kill: a\n").unwrap();
        assert_eq!(
            applied.commit,
            git.head().unwrap().target().map(|id| id.to_string())
        );
    }
}
