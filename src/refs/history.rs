//! When each flag that the code no longer uses lost its last use: the newest commit of
//! the first-parent history whose changed files hold fewer uses of its key than they
//! held in the commit's parent.
//!
//! Today's count is zero, so the newest commit that lowered the count is the one that
//! took it to zero. Each commit is compared only in the files it changed under the
//! scanned paths, and those are read with the scan's own matcher and classifier, so a
//! use moved to another file is no removal and a comment is no use. The walk stops as
//! soon as every flag has its answer.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use chrono::{DateTime, FixedOffset};
use schemars::JsonSchema;
use serde::Serialize;

use super::walk::{self, Scope};
use super::{Options, Scan, Target, UseCounter};
use crate::history::code::{self, CodeScope, End};
use crate::history::{CommitInfo, Unavailable};
use crate::repo::short_id;

/// The commit that removed a flag's last use.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Removal {
    /// The full commit id.
    pub commit: String,
    pub author: String,
    /// Author time in the author's offset (RFC 3339); `null` when the commit's dates
    /// cannot be read.
    #[serde(serialize_with = "crate::history::rfc3339")]
    pub date: Option<DateTime<FixedOffset>>,
    /// The commit message's first line.
    pub summary: String,
    /// The file that lost the use (of those that lost one, the one that lost most).
    pub path: String,
}

/// What the history says about the flags without a use.
#[derive(Debug, Default)]
pub struct LastUses {
    /// By flag key: the commit that removed its last use.
    pub removals: BTreeMap<String, Removal>,
    /// What the reader should know: uses removed by changes not committed yet, and why
    /// the history was not read, or not to its start.
    pub notes: Vec<String>,
    /// Commits compared.
    pub commits: usize,
}

/// For each flag of `scan` without a use (comments are no uses), the commit that removed
/// its last use, from the history of HEAD; `targets` are those the scan was made for,
/// and `options` what it read. `progress` is called with the commits compared so far.
pub fn last_uses(
    scan: &Scan,
    targets: &[Target],
    options: &Options,
    progress: &mut dyn FnMut(usize),
) -> anyhow::Result<LastUses> {
    let mut found = LastUses::default();
    let unused: Vec<usize> = targets
        .iter()
        .enumerate()
        .filter(|(_, target)| {
            scan.of(&target.key)
                .is_some_and(|refs| refs.uses().next().is_none())
        })
        .map(|(index, _)| index)
        .collect();
    if unused.is_empty() {
        return Ok(found);
    }
    let scope = Scope::new(options)?;
    let wants = |path: &str, is_dir: bool| scope.wants_committed(path, is_dir);
    let code_scope = CodeScope {
        wants: &wants,
        max_bytes: walk::MAX_SOURCE_BYTES,
    };
    let mut counter = UseCounter::new(targets, options.config, &unused)?;
    let mut open = unused.len();
    // A use the work tree removed and HEAD still holds was removed by no commit.
    let uncommitted = code::uncommitted(options.root, &code_scope).unwrap_or_else(|why| {
        found.notes.push(format!(
            "the work tree was not compared with HEAD ({why:#}): a use removed by changes not committed yet is dated by an older commit"
        ));
        Vec::new()
    });
    for (path, bytes) in uncommitted {
        for (target, _) in counter.uses(&path, &bytes) {
            found.notes.push(format!(
                "the last use of `{}` was removed from {path} by changes not committed yet",
                targets[target].key
            ));
            counter.stop(target);
            open -= 1;
        }
    }
    if open == 0 {
        return Ok(found);
    }
    let mut changing = 0;
    let mut visit = |commit: &CommitInfo, files: &[code::FileVersions]| {
        changing += 1;
        progress(changing);
        for (target, path) in removed_uses(&counter, files) {
            found.removals.insert(
                targets[target].key.clone(),
                Removal {
                    commit: commit.id.clone(),
                    author: commit.author.clone(),
                    date: commit.time,
                    summary: commit.summary.clone(),
                    path,
                },
            );
            counter.stop(target);
            open -= 1;
        }
        if open == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let walked = match code::walk_changes(options.root, &code_scope, &mut visit) {
        Ok(Ok(walked)) => walked,
        Ok(Err(why)) => {
            found.notes.push(unavailable(why).to_string());
            return Ok(found);
        }
        Err(why) => {
            found
                .notes
                .push(format!("the history of references was not read: {why:#}"));
            return Ok(found);
        }
    };
    found.commits = walked.commits;
    let unanswered = open;
    match &walked.end {
        End::Done | End::Root => {}
        End::Shallow { commit } => found.notes.push(format!(
            "shallow clone: the history of references ends at commit {}; the last use of {} was removed before it, if there was one (fetch the full history with `git fetch --unshallow`)",
            short_id(commit),
            flags(unanswered)
        )),
        End::Unreadable { commit, why } => found.notes.push(format!(
            "the history of references stops at commit {}: {why}; {} not looked up before it (check the repository with `git fsck`)",
            short_id(commit),
            flags(unanswered)
        )),
    }
    if walked.too_large > 0 {
        found.notes.push(format!(
            "the history of references left out {} larger than {} MiB",
            plural(walked.too_large, "file version"),
            walk::MAX_SOURCE_BYTES >> 20
        ));
    }
    if walked.too_deep > 0 {
        found.notes.push(format!(
            "the history of references did not follow {} nested deeper than {} levels",
            plural(walked.too_deep, "folder"),
            code::MAX_DEPTH
        ));
    }
    Ok(found)
}

/// The counted targets whose uses in `files` fell from the parent's versions to the
/// commit's, each with the file that lost most of them (the first in path order among
/// equals).
fn removed_uses(counter: &UseCounter, files: &[code::FileVersions]) -> Vec<(usize, String)> {
    let mut before: HashMap<usize, usize> = HashMap::new();
    let mut after: HashMap<usize, usize> = HashMap::new();
    let mut most_lost: HashMap<usize, (usize, &str)> = HashMap::new();
    for file in files {
        let count = |bytes: &Option<Vec<u8>>| -> HashMap<usize, usize> {
            bytes
                .as_deref()
                .map(|bytes| counter.uses(&file.path, bytes))
                .unwrap_or_default()
                .into_iter()
                .collect()
        };
        let (old, new) = (count(&file.before), count(&file.after));
        for (&target, &uses) in &old {
            *before.entry(target).or_default() += uses;
            let left = new.get(&target).copied().unwrap_or(0);
            if uses > left {
                let lost = most_lost.entry(target).or_insert((0, &file.path));
                if uses - left > lost.0 {
                    *lost = (uses - left, &file.path);
                }
            }
        }
        for (&target, &uses) in &new {
            *after.entry(target).or_default() += uses;
        }
    }
    let mut removed: Vec<(usize, String)> = before
        .into_iter()
        .filter(|(target, uses)| *uses > after.get(target).copied().unwrap_or(0))
        .filter_map(|(target, _)| Some((target, most_lost.get(&target)?.1.to_string())))
        .collect();
    removed.sort();
    removed
}

fn unavailable(why: Unavailable) -> &'static str {
    match why {
        Unavailable::NotGit => {
            "not a git repository: when the unused flags lost their last use was not looked up"
        }
        Unavailable::NoCommits => {
            "no commits yet: when the unused flags lost their last use was not looked up"
        }
        Unavailable::Shallow => {
            "shallow clone: when the unused flags lost their last use was not looked up; fetch with --unshallow"
        }
    }
}

fn flags(n: usize) -> String {
    plural(n, "flag")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(path: &str, before: Option<&str>, after: Option<&str>) -> code::FileVersions {
        code::FileVersions {
            path: path.into(),
            before: before.map(|t| t.as_bytes().to_vec()),
            after: after.map(|t| t.as_bytes().to_vec()),
        }
    }

    fn removed(files: &[code::FileVersions]) -> Vec<(String, String)> {
        let targets = ["gone", "kept", "moved"].map(|key| Target {
            key: key.into(),
            archived: false,
        });
        let config = crate::model::config::RefsConfig::default();
        let counter = UseCounter::new(&targets, &config, &[0, 1, 2]).unwrap();
        removed_uses(&counter, files)
            .into_iter()
            .map(|(target, path)| (targets[target].key.clone(), path))
            .collect()
    }

    #[test]
    fn a_use_moved_to_another_file_is_no_removal() {
        let files = [
            version("a.py", Some("x = get('moved')\n"), None),
            version("b.py", None, Some("y = get('moved')\n")),
        ];
        assert_eq!(removed(&files), []);
    }

    #[test]
    fn the_file_that_lost_most_uses_is_named() {
        let files = [
            version(
                "a.py",
                Some("get('gone')\nget('kept')\n"),
                Some("get('kept')\n"),
            ),
            version("b.py", Some("get('gone')\nget('gone')\n"), Some("pass\n")),
        ];
        assert_eq!(removed(&files), [("gone".to_string(), "b.py".to_string())]);
    }

    #[test]
    fn a_binary_or_missing_version_holds_no_use() {
        let files = [
            version("a.py", Some("get('gone')\n"), Some("\0get('gone')\n")),
            version("b.py", None, None),
        ];
        assert_eq!(removed(&files), [("gone".to_string(), "a.py".to_string())]);
    }
}
