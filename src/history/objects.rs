//! Reading commits and trees straight from git's object database.
//!
//! The history pass reads every commit of the first-parent chain and the folders of the
//! flags tree that changed. Parsing the raw objects here, without building libgit2 object
//! values, keeps that pass close to the speed of `git log`.

use std::collections::HashMap;
use std::rc::Rc;

use anyhow::{Context, bail};
use chrono::{DateTime, FixedOffset, TimeZone};
use git2::{ObjectType, Odb, OdbObject, Oid, Repository};

use super::CommitInfo;

/// One entry of a tree object.
#[derive(Clone, Copy)]
pub(super) struct Entry<'t> {
    pub is_tree: bool,
    pub name: &'t [u8],
    /// The raw id: compared as bytes, made an [`Oid`] only where it is needed.
    pub raw_id: &'t [u8],
}

impl Entry<'_> {
    pub fn id(&self) -> Oid {
        Oid::from_bytes(self.raw_id).expect("a 20-byte id")
    }

    /// Git orders tree entries as if a folder's name ended in `/`.
    pub fn cmp_git(&self, other: &Entry) -> std::cmp::Ordering {
        if self.is_tree == other.is_tree {
            return self.name.cmp(other.name);
        }
        let suffix = |is_tree: bool| if is_tree { &b"/"[..] } else { &b""[..] };
        self.name
            .iter()
            .chain(suffix(self.is_tree))
            .cmp(other.name.iter().chain(suffix(other.is_tree)))
    }
}

/// A tree object's raw bytes.
pub(super) struct RawTree {
    data: Vec<u8>,
}

impl RawTree {
    /// Entries in stored (git) order: `<octal mode> <name>\0<20-byte id>` each.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let mut rest = self.data.as_slice();
        std::iter::from_fn(move || {
            let space = rest.iter().position(|&b| b == b' ')?;
            let nul = space + rest[space..].iter().position(|&b| b == 0)?;
            let raw_id = rest.get(nul + 1..nul + 21)?;
            let entry = Entry {
                is_tree: &rest[..space] == b"40000",
                name: &rest[space + 1..nul],
                raw_id,
            };
            rest = &rest[nul + 21..];
            Some(entry)
        })
    }

    pub fn get(&self, name: &[u8]) -> Option<Entry<'_>> {
        self.entries().find(|e| e.name == name)
    }
}

/// A commit's tree, first parent and what the history shows of it.
pub(super) struct RawCommit {
    pub tree: Oid,
    pub parent: Option<Oid>,
    pub info: CommitInfo,
}

pub(super) struct Objects<'r> {
    odb: Odb<'r>,
    /// Trees read for the current commit, and for the one before: the next commit is
    /// compared against them.
    current: HashMap<Oid, Rc<RawTree>>,
    previous: HashMap<Oid, Rc<RawTree>>,
}

impl<'r> Objects<'r> {
    pub fn new(git: &'r Repository) -> anyhow::Result<Objects<'r>> {
        Ok(Objects {
            odb: git.odb().context("cannot open the git object database")?,
            current: HashMap::new(),
            previous: HashMap::new(),
        })
    }

    fn read(&self, id: Oid, kind: ObjectType) -> anyhow::Result<Vec<u8>> {
        let object: OdbObject = self
            .odb
            .read(id)
            .with_context(|| format!("cannot read git object {id}"))?;
        if object.kind() != kind {
            bail!("git object {id} is a {}, not a {}", object.kind(), kind);
        }
        Ok(object.data().to_vec())
    }

    /// A tree, kept for the next commit's comparison.
    pub fn tree(&mut self, id: Oid) -> anyhow::Result<Rc<RawTree>> {
        if let Some(tree) = self.current.get(&id).or_else(|| self.previous.get(&id)) {
            let tree = tree.clone();
            self.current.insert(id, tree.clone());
            return Ok(tree);
        }
        let tree = Rc::new(RawTree {
            data: self.read(id, ObjectType::Tree)?,
        });
        self.current.insert(id, tree.clone());
        Ok(tree)
    }

    /// A commit that changed nothing under the flags folder keeps nothing.
    pub fn skip_commit(&mut self) {
        self.current.clear();
    }

    /// The trees of the commit just compared become the ones the next is compared to.
    pub fn next_commit(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }

    /// The id of the folder at `path` (`a/b`) under the tree `root`, if there is one.
    pub fn folder(&mut self, root: Oid, path: &str) -> anyhow::Result<Option<Oid>> {
        let mut id = root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            let tree = self.tree(id)?;
            match tree.get(part.as_bytes()) {
                Some(entry) if entry.is_tree => id = entry.id(),
                _ => return Ok(None),
            }
        }
        Ok(Some(id))
    }

    pub fn commit(&self, id: Oid) -> anyhow::Result<RawCommit> {
        let data = self.read(id, ObjectType::Commit)?;
        parse_commit(id, &data).with_context(|| format!("cannot parse commit {id}"))
    }
}

fn parse_commit(id: Oid, data: &[u8]) -> anyhow::Result<RawCommit> {
    let text = String::from_utf8_lossy(data);
    let (headers, message) = text.split_once("\n\n").unwrap_or((&text, ""));
    let (mut tree, mut parent, mut author) = (None, None, None);
    for line in headers.lines() {
        if let Some(hex) = line.strip_prefix("tree ") {
            tree = Some(Oid::from_str(hex)?);
        } else if let Some(hex) = line.strip_prefix("parent ") {
            parent = parent.or(Some(Oid::from_str(hex)?));
        } else if let Some(signature) = line.strip_prefix("author ") {
            author = Some(signature.to_string());
        }
    }
    let author = author.context("no author")?;
    // `Name <email> SECONDS +HHMM`
    let (name, rest) = author.rsplit_once(" <").context("no author e-mail")?;
    let mut stamp = rest.rsplit(' ');
    let zone = stamp.next().context("no time zone")?;
    let seconds: i64 = stamp.next().context("no time")?.parse()?;
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits = zone.trim_start_matches(['+', '-']);
    let minutes = digits.get(..2).unwrap_or("0").parse::<i32>()? * 60
        + digits.get(2..4).unwrap_or("0").parse::<i32>()?;
    let offset = FixedOffset::east_opt(sign * minutes * 60)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    let time: DateTime<FixedOffset> = offset
        .timestamp_opt(seconds, 0)
        .single()
        .context("a commit time out of range")?;
    let summary = message
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok(RawCommit {
        tree: tree.context("no tree")?,
        parent,
        info: CommitInfo {
            id: id.to_string(),
            time,
            author: name.trim().to_string(),
            summary,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_commit() {
        let id = Oid::ZERO_SHA1;
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 0000000000000000000000000000000000000001\n\
            author Ana Lima <ana@example.com> 1793000000 +0530\ncommitter X <x@y> 1793000000 +0000\n\nflagctl kill: x\n\nbody\n";
        let commit = parse_commit(id, data).unwrap();
        assert_eq!(
            commit.tree.to_string(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        assert_eq!(
            commit.parent.unwrap().to_string(),
            "0000000000000000000000000000000000000001"
        );
        assert_eq!(commit.info.author, "Ana Lima");
        assert_eq!(commit.info.summary, "flagctl kill: x");
        assert_eq!(commit.info.time.to_rfc3339(), "2026-10-26T13:03:20+05:30");
    }
}
