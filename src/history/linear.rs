//! The history of a first-parent line without merges, compared on every core.
//!
//! Each commit's changes depend only on its own tree and its parent's, so the line is cut
//! into runs of consecutive commits as it is read, and each run is compared by another
//! thread, with its own reader of git's object database, while the line is still being
//! read. Crediting the changes to flag keys, which follows moves from one commit to the
//! next, then runs in order on the results.

use std::sync::Mutex;

use anyhow::Context;
use git2::{Oid, Repository};

use super::objects::{Objects, RawCommit};
use super::packs::Packs;
use super::{FileDelta, FlagsPath, own_changes};

/// Commits per run: a run opens the repository and reads its parent's trees, so runs
/// are long, but short enough that the first is compared while the chain is still read.
const RUN: usize = 4096;

/// The changes of the commits that changed flags, by index into the chain (oldest first).
pub(super) type Changes = Vec<(usize, Vec<FileDelta>)>;

/// Reads the first-parent chain that ends at `tip` with `objects`, oldest first, and
/// meanwhile compares each run of it that is read on the other cores. The changes come
/// with the chain when none of its commits is a merge (else the runs are dropped, and
/// the caller makes its pass over the chain).
pub(super) fn read_chain(
    git: &Repository,
    objects: &Objects,
    packs: &Packs,
    prefix: &str,
    tip: Oid,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<(Vec<RawCommit>, Option<Changes>)> {
    let path = git.path().to_path_buf();
    let found: Mutex<Changes> = Mutex::new(Vec::new());
    let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let mut chain: Vec<RawCommit> = Vec::new();
    let mut linear = true;
    rayon::in_place_scope(|scope| -> anyhow::Result<()> {
        // A run of commits (oldest first) after `parent`, the first of which is the
        // `newest`th from the tip; its changes are kept by distance from the tip.
        let spawn = |newest: usize, trees: Vec<Oid>, parent: Option<Oid>| {
            let (path, found, failed) = (&path, &found, &failed);
            scope.spawn(move |_| {
                let compared = Repository::open(path)
                    .with_context(|| format!("cannot open the git repository {}", path.display()))
                    .and_then(|git| run(&git, packs, prefix, &trees, parent));
                match compared {
                    Ok(changes) => {
                        let from_tip = |k: usize| newest + trees.len() - 1 - k;
                        let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                        found.extend(changes.into_iter().map(|(k, d)| (from_tip(k), d)));
                    }
                    Err(error) => {
                        let mut failed = failed.lock().unwrap_or_else(|e| e.into_inner());
                        failed.get_or_insert(error);
                    }
                }
            });
        };
        let mut run_start = 0;
        let mut next = Some(tip);
        while let Some(id) = next {
            let commit = objects.commit(id)?;
            next = commit.parent;
            linear &= commit.merged.is_empty();
            chain.push(commit);
            let read = chain.len();
            if read.is_multiple_of(256) {
                progress(read, read);
            }
            if linear && read - run_start > RUN {
                let trees = chain[run_start..read - 1].iter().rev().map(|c| c.tree);
                spawn(run_start, trees.collect(), Some(chain[read - 1].tree));
                run_start = read - 1;
            }
        }
        if linear {
            let trees = chain[run_start..].iter().rev().map(|c| c.tree);
            spawn(run_start, trees.collect(), None);
        }
        Ok(())
    })?;
    chain.reverse();
    if !linear {
        return Ok((chain, None));
    }
    if let Some(error) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(error);
    }
    let last = chain.len() - 1;
    let mut changes: Changes = found
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|(from_tip, deltas)| (last - from_tip, deltas))
        .collect();
    changes.sort_unstable_by_key(|(index, _)| *index);
    Ok((chain, Some(changes)))
}

/// The changes of a run of commits (their root trees, oldest first) after the commit
/// whose tree is `parent`, compared as the single pass compares them: by index into the
/// run.
fn run(
    git: &Repository,
    packs: &Packs,
    prefix: &str,
    trees: &[Oid],
    parent: Option<Oid>,
) -> anyhow::Result<Changes> {
    let mut objects = Objects::new(git, packs)?;
    let mut flags = FlagsPath::new(prefix);
    let mut previous = match parent {
        Some(tree) => flags.folder(&mut objects, tree)?,
        None => None,
    };
    objects.next_commit();
    let mut found = Vec::new();
    for (index, tree) in trees.iter().enumerate() {
        let folder = flags.folder(&mut objects, *tree)?;
        let mut deltas = Vec::new();
        own_changes(&mut objects, &[previous], folder, &mut deltas)?;
        if !deltas.is_empty() {
            found.push((index, deltas));
        }
        previous = folder;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A line of `commits` commits on main, written by `git fast-import`: each adds, edits,
    /// moves or deletes one of a few flags, now and then under a renamed flags folder.
    fn line_of_commits(commits: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let mut command = std::process::Command::new("git");
            command.args(args).current_dir(dir.path());
            command
        };
        assert!(
            git(&["init", "-q", "-b", "main"])
                .status()
                .unwrap()
                .success()
        );
        let mut import = git(&["fast-import", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stream = import.stdin.take().unwrap();
        for c in 0..commits {
            let n = c % 7;
            let service = ["a", "b"][(c / 7) % 2];
            let folder = if (c / 1000) % 2 == 1 {
                "flags2"
            } else {
                "flags"
            };
            writeln!(stream, "commit refs/heads/main\nmark :{}", c + 1).unwrap();
            writeln!(
                stream,
                "committer B <b@x> {} +0000\ndata 2\nc{}",
                1_793_000_000 + c,
                c % 10
            )
            .unwrap();
            if c > 0 {
                writeln!(stream, "from :{c}").unwrap();
            }
            if c % 1000 == 0 {
                let config = format!("flags_dir = \"{folder}\"\n");
                writeln!(
                    stream,
                    "M 100644 inline flagctl.toml\ndata {}\n{config}",
                    config.len()
                )
                .unwrap();
            }
            if c % 11 == 0 {
                writeln!(stream, "D {folder}/{service}/f{n}.toml").unwrap();
            } else {
                let text = format!("description = \"{c}\"\n");
                writeln!(
                    stream,
                    "M 100644 inline {folder}/{service}/f{n}.toml\ndata {}\n{text}",
                    text.len()
                )
                .unwrap();
            }
        }
        drop(stream);
        assert!(import.wait().unwrap().success());
        dir
    }

    #[test]
    fn runs_find_what_one_pass_finds() {
        let dir = line_of_commits(2 * RUN + 500);
        let git = Repository::open(dir.path()).unwrap();
        let tip = git.head().unwrap().target().unwrap();
        let packs = Packs::open(&git.commondir().join("objects"));
        let objects = Objects::new(&git, &packs).unwrap();
        let (chain, changes) = read_chain(&git, &objects, &packs, "", tip, &mut |_, _| ()).unwrap();
        let changes = changes.expect("a line without merges");
        assert_eq!(chain.len(), 2 * RUN + 500);
        let trees: Vec<Oid> = chain.iter().map(|commit| commit.tree).collect();
        let whole = run(&git, &packs, "", &trees, None).unwrap();
        let summary = |changes: &Changes| -> Vec<String> {
            changes
                .iter()
                .flat_map(|(at, deltas)| {
                    deltas
                        .iter()
                        .map(move |d| format!("{at} {} {:?} {:?}", d.path, d.old, d.new))
                })
                .collect()
        };
        assert_eq!(summary(&changes), summary(&whole));
        assert!(changes.len() > 2 * RUN, "{}", changes.len());
    }
}
