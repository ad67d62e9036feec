//! Source code in git, for the history of references: the files each first-parent commit
//! changed under the scanned paths, with their contents before and after, and the files
//! of one commit's tree.
//!
//! Git history is input from whoever pushed it: blobs are read only up to a size, trees
//! are walked with a stack of bounded depth (never by recursion), and an object that
//! cannot be read ends the walk with a note instead of an error.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::Path;

use anyhow::Context;
use git2::{Oid, Repository};

use super::objects::{Entry, FastReads, Objects, pair_entries};
use super::{CommitInfo, Unavailable};
use crate::repo::git;

/// The deepest folder followed below the flag repository: real source trees are a few
/// dozen levels deep at most, and a forged tree can nest without end.
pub const MAX_DEPTH: usize = 256;

/// Which files of a tree are read.
pub struct CodeScope<'a> {
    /// Whether the file, or with `true` the folder, at a path relative to the flag
    /// repository root (with `/`) is read, or entered.
    pub wants: &'a dyn Fn(&str, bool) -> bool,
    /// The largest blob read: a bigger one is left out, as the scan of the work tree
    /// leaves out a bigger file.
    pub max_bytes: u64,
}

/// One file a commit changed: its contents in the first parent (`before`) and in the
/// commit (`after`); `None` where it is absent or larger than the scope reads.
#[derive(Debug)]
pub struct FileVersions {
    /// Relative to the flag repository root, with `/`.
    pub path: String,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
}

/// Why a walk over the history ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The visitor had what it wanted.
    Done,
    /// The first commit was reached: the whole history was read.
    Root,
    /// A shallow clone: the commits before this one were not fetched.
    Shallow { commit: String },
    /// An object could not be read (a corrupt or forged repository); the history before
    /// this commit was not read.
    Unreadable { commit: String, why: String },
}

/// What one walk over the history read.
#[derive(Debug)]
pub struct Walked {
    /// Commits compared with their first parent.
    pub commits: usize,
    pub end: End,
    /// Blobs left out for their size, and folders deeper than [`MAX_DEPTH`].
    pub too_large: usize,
    pub too_deep: usize,
}

/// Walks the first-parent history from HEAD, newest first, and hands `visit` each commit
/// that changed files in `scope`, with those files before and after (compared with the
/// first parent, as `git log -p --first-parent` does), until `visit` breaks or the history
/// ends. Only folders whose ids differ are entered, so a commit costs the folders and
/// files it changed.
pub fn walk_changes(
    root: &Path,
    scope: &CodeScope,
    visit: &mut dyn FnMut(&CommitInfo, &[FileVersions]) -> ControlFlow<()>,
) -> anyhow::Result<Result<Walked, Unavailable>> {
    let Some(git) = git::open(root) else {
        return Ok(Err(Unavailable::NotGit));
    };
    let Some(tip) = git.head().ok().and_then(|head| head.target()) else {
        return Ok(Err(Unavailable::NoCommits));
    };
    let prefix = git::git_path(&git, root, "")?;
    let shallow = shallow_commits(&git);
    let _fast = FastReads::new();
    let mut objects = Objects::new(&git)?;
    let mut walked = Walked {
        commits: 0,
        end: End::Root,
        too_large: 0,
        too_deep: 0,
    };
    let unreadable = |commit: Oid, why: anyhow::Error| End::Unreadable {
        commit: commit.to_string(),
        why: format!("{why:#}"),
    };
    let mut commit = match objects.commit(tip) {
        Ok(commit) => commit,
        Err(why) => {
            walked.end = unreadable(tip, why);
            return Ok(Ok(walked));
        }
    };
    let mut changed = Vec::new();
    // The first commit has no parent, and adds what it holds: no use is lost there.
    while let Some(parent_id) = commit.parent {
        if shallow.contains(&commit.id) {
            walked.end = End::Shallow {
                commit: commit.id.to_string(),
            };
            break;
        }
        let step = (|| -> anyhow::Result<_> {
            let parent = objects.commit(parent_id)?;
            let before = objects.folder(parent.tree, &prefix)?;
            let after = objects.folder(commit.tree, &prefix)?;
            changed_files(
                &mut objects,
                before,
                after,
                scope,
                &mut walked,
                &mut changed,
            )?;
            Ok(parent)
        })();
        let parent = match step {
            Ok(parent) => parent,
            Err(why) => {
                walked.end = unreadable(commit.id, why);
                break;
            }
        };
        objects.next_commit();
        walked.commits += 1;
        if !changed.is_empty() && visit(&commit.info, &changed).is_break() {
            walked.end = End::Done;
            break;
        }
        commit = parent;
    }
    Ok(Ok(walked))
}

/// A changed file before its blobs are read.
struct Delta {
    path: String,
    before: Option<Oid>,
    after: Option<Oid>,
}

/// The files in `scope` that differ between two folders (the flag repository's, in a
/// parent and its commit), read into `out` in path order.
fn changed_files(
    objects: &mut Objects,
    before: Option<Oid>,
    after: Option<Oid>,
    scope: &CodeScope,
    walked: &mut Walked,
    out: &mut Vec<FileVersions>,
) -> anyhow::Result<()> {
    out.clear();
    let mut deltas = Vec::new();
    let mut stack = vec![(String::new(), before, after, 0)];
    while let Some((folder, before, after, depth)) = stack.pop() {
        if before == after {
            continue;
        }
        if depth > MAX_DEPTH {
            walked.too_deep += 1;
            continue;
        }
        let old = before.map(|id| objects.tree(id)).transpose()?;
        let new = after.map(|id| objects.tree(id)).transpose()?;
        let old_entries = old.iter().flat_map(|tree| tree.entries());
        let new_entries = new.iter().flat_map(|tree| tree.entries());
        for (a, b) in pair_entries(old_entries, new_entries) {
            if let (Some(a), Some(b)) = (&a, &b)
                && a.raw_id == b.raw_id
                && a.is_tree == b.is_tree
            {
                continue;
            }
            let Some(name) = a.or(b).and_then(|entry| entry_name(&entry)) else {
                continue;
            };
            let path = join(&folder, &name);
            let tree = |e: Option<Entry>| e.filter(|e| e.is_tree).map(|e| e.id());
            let (old_tree, new_tree) = (tree(a), tree(b));
            if (old_tree.is_some() || new_tree.is_some()) && (scope.wants)(&path, true) {
                stack.push((path.clone(), old_tree, new_tree, depth + 1));
            }
            let file = |e: Option<Entry>| e.filter(is_file).map(|e| e.id());
            let (old_file, new_file) = (file(a), file(b));
            if old_file != new_file && (scope.wants)(&path, false) {
                deltas.push(Delta {
                    path,
                    before: old_file,
                    after: new_file,
                });
            }
        }
    }
    deltas.sort_by(|a, b| a.path.cmp(&b.path));
    for delta in deltas {
        let mut read = |id: Option<Oid>| -> anyhow::Result<Option<Vec<u8>>> {
            let Some(id) = id else { return Ok(None) };
            let bytes = objects.blob_bounded(id, scope.max_bytes)?.ok();
            walked.too_large += usize::from(bytes.is_none());
            Ok(bytes)
        };
        out.push(FileVersions {
            before: read(delta.before)?,
            after: read(delta.after)?,
            path: delta.path,
        });
    }
    Ok(())
}

/// A regular file: not a folder, a symlink (never followed, as the scan does not follow
/// them) or a submodule.
fn is_file(entry: &Entry) -> bool {
    !entry.is_tree && !entry.is_link && !entry.is_module
}

/// An entry's name, when a checkout could hold it: a forged tree can name an entry
/// `..`, or put a `/` in it.
fn entry_name(entry: &Entry) -> Option<String> {
    let name = String::from_utf8_lossy(entry.name);
    let valid = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
    valid.then(|| name.into_owned())
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

/// The commits a shallow clone was cut at: their parents were not fetched.
fn shallow_commits(git: &Repository) -> HashSet<Oid> {
    if !git.is_shallow() {
        return HashSet::new();
    }
    use std::io::Read;
    // One id per line; a file longer than any real clone's list is not read further.
    let mut text = String::new();
    if let Ok(file) = std::fs::File::open(git.commondir().join("shallow")) {
        let _ = file.take(4 << 20).read_to_string(&mut text);
    }
    text.lines()
        .filter_map(|line| Oid::from_str(line.trim()).ok())
        .collect()
}

/// The files in `scope` of the commit `rev` names, handed to `visit` in path order with
/// their contents (`None` for a blob larger than the scope reads, with its size).
/// Returns the commit's full id, and how many folders were too deep to follow.
pub fn files_at(
    root: &Path,
    option: &str,
    rev: &str,
    scope: &CodeScope,
    visit: &mut dyn FnMut(String, Result<Vec<u8>, u64>),
) -> anyhow::Result<(String, usize)> {
    let git = git::open(root).with_context(|| {
        format!(
            "{option} {rev}: {} is not in a git repository; the code at {rev} is read from git",
            root.display()
        )
    })?;
    let commit = git::resolve(&git, option, rev)?;
    let id = commit.id();
    let prefix = git::git_path(&git, root, "")?;
    let _fast = FastReads::new();
    let mut objects = Objects::new(&git)?;
    let corrupt = |why: anyhow::Error| {
        anyhow::anyhow!(
            "{option} {rev}: cannot read the code of commit {id}: {why:#}\nhelp: check the repository with `git fsck`"
        )
    };
    let folder = objects.folder(commit.tree_id(), &prefix).map_err(corrupt)?;
    let mut too_deep = 0;
    let mut files = Vec::new();
    let mut stack: Vec<(String, Oid, usize)> = folder
        .into_iter()
        .map(|folder| (String::new(), folder, 0))
        .collect();
    while let Some((path, folder, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            too_deep += 1;
            continue;
        }
        let tree = objects.tree(folder).map_err(corrupt)?;
        for entry in tree.entries() {
            let Some(name) = entry_name(&entry) else {
                continue;
            };
            let child = join(&path, &name);
            if entry.is_tree {
                if (scope.wants)(&child, true) {
                    stack.push((child, entry.id(), depth + 1));
                }
            } else if is_file(&entry) && (scope.wants)(&child, false) {
                files.push((child, entry.id()));
            }
        }
        // Only the trees on the way down are needed, and each once.
        objects.skip_commit();
    }
    files.sort();
    for (path, blob) in files {
        visit(
            path,
            objects
                .blob_bounded(blob, scope.max_bytes)
                .map_err(corrupt)?,
        );
    }
    Ok((id.to_string(), too_deep))
}

/// HEAD's versions of the files in `scope` that the work tree or the index changed
/// (modified, deleted or renamed away): what the history sees that the work tree no
/// longer holds. Empty outside git or before the first commit.
pub fn uncommitted(root: &Path, scope: &CodeScope) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let Some(git) = git::open(root) else {
        return Ok(Vec::new());
    };
    let Some(head) = git.head().ok().and_then(|head| head.peel_to_tree().ok()) else {
        return Ok(Vec::new());
    };
    let prefix = git::git_path(&git, root, "")?;
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    if !prefix.is_empty() {
        options.pathspec(&prefix);
    }
    let statuses = git
        .statuses(Some(&mut options))
        .context("cannot read git status")?;
    let changed = git2::Status::INDEX_MODIFIED
        | git2::Status::INDEX_DELETED
        | git2::Status::INDEX_RENAMED
        | git2::Status::INDEX_TYPECHANGE
        | git2::Status::WT_MODIFIED
        | git2::Status::WT_DELETED
        | git2::Status::WT_RENAMED
        | git2::Status::WT_TYPECHANGE;
    let mut files = Vec::new();
    for entry in statuses.iter() {
        if !entry.status().intersects(changed) {
            continue;
        }
        let Ok(path) = entry.path() else { continue };
        let rel = match prefix.as_str() {
            "" => path,
            prefix => match path
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('/'))
            {
                Some(rel) => rel,
                None => continue,
            },
        };
        if !(scope.wants)(rel, false) {
            continue;
        }
        let Ok(entry) = head.get_path(Path::new(path)) else {
            continue;
        };
        if entry.kind() != Some(git2::ObjectType::Blob) || entry.filemode() == 0o120000 {
            continue;
        }
        let (size, _) = git.odb()?.read_header(entry.id())?;
        if size as u64 <= scope.max_bytes {
            let blob = git.find_blob(entry.id())?;
            files.push((rel.to_string(), blob.content().to_vec()));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository whose second commit holds a tree written byte by byte: entries a
    /// checkout cannot hold (`..`, a name with `/`), a symlink, a submodule and a file.
    fn forged() -> (tempfile::TempDir, Oid) {
        let dir = tempfile::tempdir().unwrap();
        let git = Repository::init(dir.path()).unwrap();
        let odb = git.odb().unwrap();
        let blob = odb.write(git2::ObjectType::Blob, b"get('k')\n").unwrap();
        let mut src = Vec::new();
        for (mode, name) in [
            ("100644", &b".."[..]),
            ("100644", b"a/b"),
            ("120000", b"link.py"),
            ("100644", b"ok.py"),
            ("160000", b"vendored"),
        ] {
            src.extend_from_slice(format!("{mode} ").as_bytes());
            src.extend_from_slice(name);
            src.push(0);
            src.extend_from_slice(blob.as_bytes());
        }
        let src = odb.write(git2::ObjectType::Tree, &src).unwrap();
        let mut root = b"40000 src\0".to_vec();
        root.extend_from_slice(src.as_bytes());
        let root = odb.write(git2::ObjectType::Tree, &root).unwrap();
        let empty = git.treebuilder(None).unwrap().write().unwrap();
        let who = git2::Signature::new(
            "Ada",
            "ada@example.com",
            &git2::Time::new(1_790_000_000, 60),
        )
        .unwrap();
        let first = git
            .commit(
                None,
                &who,
                &who,
                "empty",
                &git.find_tree(empty).unwrap(),
                &[],
            )
            .unwrap();
        let first = git.find_commit(first).unwrap();
        let second = git
            .commit(
                Some("HEAD"),
                &who,
                &who,
                "forged src",
                &git.find_tree(root).unwrap(),
                &[&first],
            )
            .unwrap();
        (dir, second)
    }

    fn in_src(path: &str, _is_dir: bool) -> bool {
        path == "src" || path.starts_with("src/")
    }

    #[test]
    fn only_files_a_checkout_holds_are_read() {
        let (dir, second) = forged();
        let scope = CodeScope {
            wants: &in_src,
            max_bytes: 1 << 20,
        };
        let mut seen = Vec::new();
        let walked = walk_changes(dir.path(), &scope, &mut |commit, files| {
            seen.push((
                commit.id.clone(),
                commit.author.clone(),
                commit.summary.clone(),
            ));
            seen.extend(files.iter().map(|f| {
                let text = |b: &Option<Vec<u8>>| {
                    b.as_deref()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                };
                (
                    f.path.clone(),
                    format!("{:?}", text(&f.before)),
                    format!("{:?}", text(&f.after)),
                )
            }));
            ControlFlow::Continue(())
        })
        .unwrap()
        .unwrap();
        assert_eq!(walked.end, End::Root);
        assert_eq!(walked.commits, 1);
        assert_eq!(
            seen,
            [
                (second.to_string(), "Ada".into(), "forged src".into()),
                (
                    "src/ok.py".into(),
                    "None".into(),
                    "Some(\"get('k')\\n\")".into()
                ),
            ]
        );
        let mut files = Vec::new();
        let (commit, too_deep) =
            files_at(dir.path(), "--base", "HEAD", &scope, &mut |path, bytes| {
                files.push((path, bytes.map(|b| b.len())));
            })
            .unwrap();
        assert_eq!((commit, too_deep), (second.to_string(), 0));
        assert_eq!(files, [("src/ok.py".to_string(), Ok(9))]);
    }

    #[test]
    fn a_blob_over_the_limit_is_not_read() {
        let (dir, _) = forged();
        let scope = CodeScope {
            wants: &in_src,
            max_bytes: 4,
        };
        let mut files = Vec::new();
        files_at(dir.path(), "--base", "HEAD", &scope, &mut |path, bytes| {
            files.push((path, bytes.map(|b| b.len())));
        })
        .unwrap();
        assert_eq!(files, [("src/ok.py".to_string(), Err(9))]);
        let walked = walk_changes(dir.path(), &scope, &mut |_, files| {
            assert!(files.iter().all(|f| f.after.is_none()));
            ControlFlow::Continue(())
        })
        .unwrap()
        .unwrap();
        assert_eq!(walked.too_large, 1);
    }

    #[test]
    fn a_missing_object_ends_the_walk_with_its_commit() {
        let (dir, second) = forged();
        let missing = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
        let git = Repository::open(dir.path()).unwrap();
        // A commit whose parent is in no object database.
        let text = format!(
            "tree {}\nparent {missing}\nauthor Bo <bo@example.com> 1790000000 +0000\ncommitter Bo <bo@example.com> 1790000000 +0000\n\norphan\n",
            git.find_commit(second).unwrap().tree_id()
        );
        let orphan = git
            .odb()
            .unwrap()
            .write(git2::ObjectType::Commit, text.as_bytes())
            .unwrap();
        git.reference("refs/heads/orphan", orphan, true, "test")
            .unwrap();
        git.set_head("refs/heads/orphan").unwrap();
        let scope = CodeScope {
            wants: &in_src,
            max_bytes: 1 << 20,
        };
        let walked = walk_changes(dir.path(), &scope, &mut |_, _| ControlFlow::Continue(()))
            .unwrap()
            .unwrap();
        match walked.end {
            End::Unreadable { commit, why } => {
                assert_eq!(commit, orphan.to_string());
                assert!(why.contains(&missing.to_string()), "{why}");
            }
            end => panic!("{end:?}"),
        }
    }
}
