//! What a change does to the references: the code of a base commit, read from git and
//! scanned as the work tree is, against today's scan (`refs --base REV`, and the
//! `--base` of `audit --refs`).

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::walk::{self, Scope};
use super::{Options, RefKind, Reference, Scan, Skipped, Target, TextScan};
use crate::history::code::{self, CodeScope};

/// A reference a change adds or removes.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RefChange {
    pub flag: String,
    /// Whether the flag is archived (today).
    pub archived: bool,
    #[serde(flatten)]
    pub reference: Reference,
}

/// The references a change adds and removes, each in path, line and column order.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct RefsDiff {
    /// In the work tree and not at the base (lines and columns are the work tree's).
    pub added: Vec<RefChange>,
    /// At the base and no longer in the work tree (lines and columns are the base's).
    pub removed: Vec<RefChange>,
}

/// What makes two references one across a change: not their line numbers, so a line
/// that moved is neither added nor removed.
type Identity<'s> = (&'s str, &'s str, RefKind, &'s str);

fn identities(scan: &Scan) -> impl Iterator<Item = (Identity<'_>, bool, &Reference)> {
    scan.flags.iter().flat_map(|flag| {
        flag.references.iter().map(move |r| {
            (
                (flag.flag.as_str(), r.path.as_str(), r.kind, r.text.as_str()),
                flag.archived,
                r,
            )
        })
    })
}

/// The references of `after` that `before` does not hold, and those of `before` that
/// `after` no longer holds, matched by flag, file, kind and line text, as many times as
/// they occur (a second identical line is a new reference). Both scans are of the same
/// targets.
pub fn diff(before: &Scan, after: &Scan) -> RefsDiff {
    let one_way = |from: &Scan, to: &Scan| -> Vec<RefChange> {
        let mut left: HashMap<Identity, usize> = HashMap::new();
        for (identity, _, _) in identities(from) {
            *left.entry(identity).or_default() += 1;
        }
        let mut changes: Vec<RefChange> = identities(to)
            .filter(|(identity, _, _)| match left.get_mut(identity) {
                Some(count) if *count > 0 => {
                    *count -= 1;
                    false
                }
                _ => true,
            })
            .map(|(identity, archived, reference)| RefChange {
                flag: identity.0.to_string(),
                archived,
                reference: reference.clone(),
            })
            .collect();
        changes.sort_by(|a, b| {
            let key = |c: &RefChange| {
                let r = &c.reference;
                (r.path.clone(), r.line, r.column, c.flag.clone())
            };
            key(a).cmp(&key(b))
        });
        changes
    };
    RefsDiff {
        added: one_way(before, after),
        removed: one_way(after, before),
    }
}

/// The scan of the code at a commit.
#[derive(Debug)]
pub struct BaseScan {
    /// The commit's full id.
    pub commit: String,
    pub scan: Scan,
    /// What the reader should know (folders too deep to follow).
    pub notes: Vec<String>,
}

/// Scans the code of the commit `rev` (given as `option REV`, for messages) for
/// `targets`: the files of its tree under the paths `options` name, read from git's
/// object database and classified as the work tree's are (hidden, binary and oversized
/// files left out, symlinks not followed).
pub fn scan_at(
    option: &str,
    rev: &str,
    targets: &[Target],
    options: &Options,
) -> anyhow::Result<BaseScan> {
    let scope = Scope::new(options)?;
    let wants = |path: &str, is_dir: bool| scope.wants_committed(path, is_dir);
    let code_scope = CodeScope {
        wants: &wants,
        max_bytes: walk::MAX_SOURCE_BYTES,
    };
    let mut scan = TextScan::new(targets, options.config)?;
    let (commit, too_deep) = code::files_at(
        options.root,
        option,
        rev,
        &code_scope,
        &mut |path, bytes| match bytes {
            Ok(bytes) => scan.add(path, bytes),
            Err(size) => scan.skip(Skipped {
                path,
                reason: walk::too_large(size),
            }),
        },
    )?;
    let mut notes = Vec::new();
    if too_deep > 0 {
        notes.push(format!(
            "{option} {rev}: {too_deep} folder(s) nested deeper than {} levels were not read",
            code::MAX_DEPTH
        ));
    }
    Ok(BaseScan {
        commit,
        scan: scan.finish(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(files: &[(&str, &str)]) -> Scan {
        let targets = ["new", "old"].map(|key| Target {
            key: key.into(),
            archived: key == "old",
        });
        super::super::scan_texts(&targets, &Default::default(), files).unwrap()
    }

    fn listed(changes: &[RefChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{} {}:{}", c.flag, c.reference.path, c.reference.line))
            .collect()
    }

    #[test]
    fn moved_lines_are_neither_added_nor_removed() {
        let before = scan(&[("a.py", "x = get('new')\n"), ("b.py", "y = get('old')\n")]);
        let after = scan(&[
            ("a.py", "\n\n\nx = get('new')\n"),
            ("b.py", "z = get('old', True)\n"),
        ]);
        let diff = diff(&before, &after);
        assert_eq!(listed(&diff.added), ["old b.py:1"]);
        assert_eq!(listed(&diff.removed), ["old b.py:1"]);
        assert_eq!(diff.added[0].reference.text, "z = get('old', True)");
        assert!(diff.added[0].archived);
    }

    #[test]
    fn a_second_identical_line_is_added() {
        let before = scan(&[("a.py", "get('new')\n")]);
        let after = scan(&[
            ("a.py", "get('new')\nget('new')\n"),
            ("c.py", "get('new')\n"),
        ]);
        let diff = diff(&before, &after);
        assert_eq!(listed(&diff.added), ["new a.py:2", "new c.py:1"]);
        assert_eq!(diff.removed, []);
    }
}
