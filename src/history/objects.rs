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
    /// A symlink: its blob holds the target path.
    pub is_link: bool,
    /// A submodule: the id is a commit of another repository.
    pub is_module: bool,
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

/// The entries of two trees paired by name: both are in git's order, so one merge pass
/// pairs them.
pub(super) fn pair_entries<'t>(
    old: impl Iterator<Item = Entry<'t>>,
    new: impl Iterator<Item = Entry<'t>>,
) -> impl Iterator<Item = (Option<Entry<'t>>, Option<Entry<'t>>)> {
    use std::cmp::Ordering;
    let (mut left, mut right) = (old.peekable(), new.peekable());
    std::iter::from_fn(move || {
        Some(match (left.peek(), right.peek()) {
            (None, None) => return None,
            (Some(a), Some(b)) => match a.cmp_git(b) {
                Ordering::Less => (left.next(), None),
                Ordering::Greater => (None, right.next()),
                Ordering::Equal => (left.next(), right.next()),
            },
            (Some(_), None) => (left.next(), None),
            (None, Some(_)) => (None, right.next()),
        })
    })
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
                is_link: &rest[..space] == b"120000",
                is_module: &rest[..space] == b"160000",
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

/// A commit's tree, parents and what the history shows of it.
pub(super) struct RawCommit {
    pub id: Oid,
    pub tree: Oid,
    pub parent: Option<Oid>,
    /// The parents after the first: a merge's merged sides (empty, without allocating,
    /// for every other commit).
    pub merged: Vec<Oid>,
    pub info: CommitInfo,
    /// The first paragraph of the message's body, at most [`BODY_CHARS`] characters.
    pub body: Option<String>,
}

impl RawCommit {
    /// Every parent, the first first.
    pub fn parents(&self) -> impl Iterator<Item = Oid> + '_ {
        self.parent.into_iter().chain(self.merged.iter().copied())
    }
}

/// The most of a commit's body the history keeps: the reason of a lifecycle step, not
/// whatever a commit message holds.
pub(super) const BODY_CHARS: usize = 300;

pub(super) struct Objects<'r> {
    odb: Odb<'r>,
    /// `.git/objects`, where loose objects are read without libgit2.
    loose: std::path::PathBuf,
    /// The ids of the loose objects, listed once: most objects of a repository are packed,
    /// and asking the file system for each would cost a failed open per object.
    loose_ids: std::collections::HashSet<Oid>,
    /// Trees read for the current commit, and for the one before: the next commit is
    /// compared against them.
    current: HashMap<Oid, Rc<RawTree>>,
    previous: HashMap<Oid, Rc<RawTree>>,
}

impl<'r> Objects<'r> {
    pub fn new(git: &'r Repository) -> anyhow::Result<Objects<'r>> {
        let loose = git.commondir().join("objects");
        Ok(Objects {
            odb: git.odb().context("cannot open the git object database")?,
            loose_ids: loose_ids(&loose),
            loose,
            current: HashMap::new(),
            previous: HashMap::new(),
        })
    }

    /// A commit or tree, whole: in a pack libgit2 inflates it before its size is known.
    fn read(&self, id: Oid, kind: ObjectType) -> anyhow::Result<Vec<u8>> {
        self.read_within(id, kind, MAX_OBJECT_BYTES, false)?
            .map_err(|size| {
                anyhow::anyhow!(
                    "git object {id} is {} MiB, larger than the {} MiB flagctl reads of one",
                    size >> 20,
                    MAX_OBJECT_BYTES >> 20
                )
            })
    }

    /// An object's bytes, or its size when it is larger than `max` bytes. With
    /// `size_first`, a packed object's size is read before the object, so that nothing
    /// more is inflated of one too large (for blobs, which can be of any size).
    fn read_within(
        &self,
        id: Oid,
        kind: ObjectType,
        max: u64,
        size_first: bool,
    ) -> anyhow::Result<Result<Vec<u8>, u64>> {
        if self.loose_ids.contains(&id) {
            let hex = id.to_string();
            match std::fs::read(self.loose.join(&hex[..2]).join(&hex[2..])) {
                Ok(compressed) => return inflate_loose(&hex, &compressed, kind, max),
                // Packed since it was listed (a `git gc` meanwhile): libgit2 finds it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot read git object {id}")),
            }
        }
        if size_first {
            let (size, stored) = self
                .odb
                .read_header(id)
                .with_context(|| format!("cannot read git object {id}"))?;
            if stored != kind {
                bail!("git object {id} is a {stored}, not a {kind}");
            }
            if size as u64 > max {
                return Ok(Err(size as u64));
            }
        }
        let object: OdbObject = self
            .odb
            .read(id)
            .with_context(|| format!("cannot read git object {id}"))?;
        if object.kind() != kind {
            bail!("git object {id} is a {}, not a {}", object.kind(), kind);
        }
        if object.len() as u64 > max {
            return Ok(Err(object.len() as u64));
        }
        Ok(Ok(object.data().to_vec()))
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
    /// Symlinks on the way are followed as a checkout would, while they stay inside the
    /// tree, so that a symlinked flags folder still has a history.
    pub fn folder(&mut self, root: Oid, path: &str) -> anyhow::Result<Option<Oid>> {
        let mut parts: Vec<String> = split(path);
        // A few hops are what a real repository needs; a loop of links ends here.
        for _hop in 0..8 {
            let mut id = root;
            let mut link = None;
            for (index, part) in parts.iter().enumerate() {
                let tree = self.tree(id)?;
                match tree.get(part.as_bytes()) {
                    Some(entry) if entry.is_tree => id = entry.id(),
                    Some(entry) if entry.is_link => {
                        link = Some((index, entry.id()));
                        break;
                    }
                    _ => return Ok(None),
                }
            }
            let Some((index, blob)) = link else {
                return Ok(Some(id));
            };
            let target = String::from_utf8_lossy(&self.read(blob, ObjectType::Blob)?).into_owned();
            if target.starts_with('/') {
                return Ok(None);
            }
            let mut resolved: Vec<String> = parts[..index].to_vec();
            for part in split(&target) {
                if part == ".." {
                    if resolved.pop().is_none() {
                        return Ok(None);
                    }
                } else {
                    resolved.push(part);
                }
            }
            resolved.extend(parts[index + 1..].iter().cloned());
            parts = resolved;
        }
        Ok(None)
    }

    /// The id of the blob at `path` under the tree `root`, if there is one.
    pub fn blob(&mut self, root: Oid, path: &str) -> anyhow::Result<Option<Oid>> {
        let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
        let Some(folder) = self.folder(root, folder)? else {
            return Ok(None);
        };
        let tree = self.tree(folder)?;
        Ok(tree
            .get(name.as_bytes())
            .filter(|e| !e.is_tree && !e.is_link)
            .map(|e| e.id()))
    }

    /// A blob's bytes.
    pub fn blob_data(&self, id: Oid) -> anyhow::Result<Vec<u8>> {
        self.read(id, ObjectType::Blob)
    }

    /// A blob's bytes, or its size when it is larger than `max` bytes.
    pub fn blob_bounded(&self, id: Oid, max: u64) -> anyhow::Result<Result<Vec<u8>, u64>> {
        self.read_within(id, ObjectType::Blob, max.min(MAX_OBJECT_BYTES), true)
    }

    pub fn commit(&self, id: Oid) -> anyhow::Result<RawCommit> {
        let data = self.read(id, ObjectType::Commit)?;
        parse_commit(id, &data).with_context(|| format!("cannot parse commit {id}"))
    }
}

/// libgit2's settings for a pass that reads many objects, restored when dropped.
pub(super) struct FastReads;

impl FastReads {
    pub fn new() -> FastReads {
        // Objects come from git's own database; re-hashing each one on read doubles the
        // cost.
        git2::opts::strict_hash_verification(false);
        // libgit2's object cache grows with every object read and costs more than it
        // saves here; the trees worth keeping (the previous commit's) are kept by
        // `Objects`.
        git2::opts::enable_caching(false);
        FastReads
    }
}

impl Drop for FastReads {
    fn drop(&mut self) {
        git2::opts::strict_hash_verification(true);
        git2::opts::enable_caching(true);
    }
}

/// The largest object the history pass reads: trees and commits of flag folders are small.
const MAX_OBJECT_BYTES: u64 = 64 << 20;

/// The ids of the loose objects under `objects/`: `xx/yyyy…` files.
fn loose_ids(objects: &std::path::Path) -> std::collections::HashSet<Oid> {
    let mut ids = std::collections::HashSet::new();
    let Ok(folders) = std::fs::read_dir(objects) else {
        return ids;
    };
    for folder in folders.flatten() {
        let name = folder.file_name();
        let Some(prefix) = name.to_str().filter(|n| n.len() == 2) else {
            continue;
        };
        let Ok(files) = std::fs::read_dir(folder.path()) else {
            continue;
        };
        for file in files.flatten() {
            if let Some(rest) = file.file_name().to_str()
                && let Ok(id) = Oid::from_str(&format!("{prefix}{rest}"))
            {
                ids.insert(id);
            }
        }
    }
    ids
}

/// The longest header of a loose object: `<type> <size>\0`.
const MAX_HEADER_BYTES: u64 = 32;

/// A loose object's content: zlib over `<type> <size>\0<content>`; its size when the
/// header says it is larger than `max` bytes (only the header is inflated then). A
/// truncated or corrupt object is an error, never a loop.
fn inflate_loose(
    hex: &str,
    compressed: &[u8],
    kind: ObjectType,
    max: u64,
) -> anyhow::Result<Result<Vec<u8>, u64>> {
    use std::io::{BufRead, Read};
    let corrupt = || format!("git object {hex} is corrupt (run `git fsck`)");
    let mut reader = std::io::BufReader::new(flate2::read::ZlibDecoder::new(compressed));
    let mut header = Vec::new();
    reader
        .by_ref()
        .take(MAX_HEADER_BYTES)
        .read_until(0, &mut header)
        .with_context(corrupt)?;
    if header.pop() != Some(0) {
        bail!("{}", corrupt());
    }
    let header = std::str::from_utf8(&header).ok().with_context(corrupt)?;
    let (name, size) = header.split_once(' ').with_context(corrupt)?;
    let size: u64 = size.parse().ok().with_context(corrupt)?;
    if name != kind.str() {
        bail!("git object {hex} is a {name}, not a {kind}");
    }
    if size > max {
        return Ok(Err(size));
    }
    let mut data = Vec::with_capacity(size as usize);
    // One byte more than promised tells a longer object from a whole one.
    reader
        .take(size + 1)
        .read_to_end(&mut data)
        .with_context(corrupt)?;
    if data.len() as u64 != size {
        bail!("{}", corrupt());
    }
    Ok(Ok(data))
}

/// The parts of a `/`-separated path, without empty and `.` parts.
fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .map(str::to_string)
        .collect()
}

fn parse_commit(id: Oid, data: &[u8]) -> anyhow::Result<RawCommit> {
    let text = String::from_utf8_lossy(data);
    let (headers, message) = text.split_once("\n\n").unwrap_or((&text, ""));
    let (mut tree, mut parent, mut author, mut committer) = (None, None, None, None);
    let mut merged = Vec::new();
    for line in headers.lines() {
        if let Some(hex) = line.strip_prefix("tree ") {
            tree = Some(Oid::from_str(hex)?);
        } else if let Some(hex) = line.strip_prefix("parent ") {
            let id = Oid::from_str(hex)?;
            match parent {
                None => parent = Some(id),
                Some(_) => merged.push(id),
            }
        } else if let Some(signature) = line.strip_prefix("author ") {
            author = Some(signature.to_string());
        } else if let Some(signature) = line.strip_prefix("committer ") {
            committer = Some(signature.to_string());
        }
    }
    let (name, authored) = author.as_deref().map(signature).unwrap_or_default();
    let committed = committer.as_deref().and_then(|c| signature(c).1);
    let summary = message
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    Ok(RawCommit {
        id,
        tree: tree.context("no tree")?,
        parent,
        merged,
        info: CommitInfo {
            id: id.to_string(),
            time: authored.or(committed),
            committed,
            author: name,
            summary,
        },
        body: first_paragraph_of_body(message),
    })
}

/// The paragraph after the subject's, as one line of at most [`BODY_CHARS`] characters
/// (`…` marks a cut): where flagctl writes the reason of a step.
fn first_paragraph_of_body(message: &str) -> Option<String> {
    let mut lines = message.lines().map(str::trim);
    // The subject is the first paragraph, as git has it.
    lines
        .by_ref()
        .take_while(|line| !line.is_empty())
        .for_each(drop);
    let paragraph = lines
        .skip_while(|line| line.is_empty())
        .take_while(|line| !line.is_empty());
    let mut body = String::new();
    let mut chars = 0;
    for line in paragraph {
        let separator = (!body.is_empty()).then_some(' ');
        for c in separator.into_iter().chain(line.chars()) {
            if chars == BODY_CHARS {
                body.truncate(body.trim_end().len());
                body.push('…');
                return Some(body);
            }
            body.push(c);
            chars += 1;
        }
    }
    (!body.is_empty()).then_some(body)
}

/// `Name <email> SECONDS +HHMM`: the name, and the time when it is readable. Git itself
/// shows a commit whose date it cannot read; so does flagctl, without the date.
fn signature(text: &str) -> (String, Option<DateTime<FixedOffset>>) {
    let (name, rest) = text.rsplit_once(" <").unwrap_or((text, ""));
    let time = (|| {
        let (_, stamp) = rest.rsplit_once("> ")?;
        let (seconds, zone) = stamp.trim().split_once(' ')?;
        let seconds: i64 = seconds.parse().ok()?;
        let sign = match zone.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits = &zone[1..];
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let minutes = digits[..2].parse::<i32>().ok()? * 60 + digits[2..].parse::<i32>().ok()?;
        FixedOffset::east_opt(sign * minutes * 60)?
            .timestamp_opt(seconds, 0)
            .single()
    })();
    (name.trim().to_string(), time)
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
        assert!(commit.merged.is_empty());
        assert_eq!(commit.info.author, "Ana Lima");
        assert_eq!(commit.info.summary, "flagctl kill: x");
        assert_eq!(commit.body.as_deref(), Some("body"));
        assert_eq!(
            commit.info.time.unwrap().to_rfc3339(),
            "2026-10-26T13:03:20+05:30"
        );
    }

    #[test]
    fn a_merge_has_every_parent() {
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
            parent 0000000000000000000000000000000000000001\n\
            parent 0000000000000000000000000000000000000002\n\
            parent 0000000000000000000000000000000000000003\n\
            author A <a@b> 1793000000 +0000\ncommitter A <a@b> 1793000000 +0000\n\nMerge\n";
        let commit = parse_commit(Oid::ZERO_SHA1, data).unwrap();
        let parents: Vec<String> = commit
            .parents()
            .map(|p| p.to_string()[38..].into())
            .collect();
        assert_eq!(parents, ["01", "02", "03"]);
        assert_eq!(commit.merged.len(), 2);
        assert_eq!(commit.body, None);
    }

    #[test]
    fn the_body_is_its_first_paragraph_bounded() {
        let body = first_paragraph_of_body;
        assert_eq!(
            body("flagctl kill: x\n\nINC-42: feature store down\n").as_deref(),
            Some("INC-42: feature store down")
        );
        assert_eq!(body("a subject only\n"), None);
        assert_eq!(body("a subject\n\n \n\n"), None);
        assert_eq!(
            body("a subject\nof two lines\n\n\nwrapped\r\n  reason\n\nSigned-off-by: A <a@b>\n")
                .as_deref(),
            Some("wrapped reason")
        );
        let cut = body(&format!("s\n\n{}", "é".repeat(1000))).unwrap();
        assert_eq!(cut.chars().count(), BODY_CHARS + 1);
        assert!(cut.ends_with("é…"));
        let cut = body(&format!(
            "s\n\n{}\n{}",
            "a".repeat(BODY_CHARS - 1),
            "b".repeat(9)
        ))
        .unwrap();
        assert_eq!(cut, format!("{}…", "a".repeat(BODY_CHARS - 1)));
    }

    #[test]
    fn truncated_loose_objects_are_errors() {
        use std::io::Write;
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"blob 5\0hello").unwrap();
        let whole = encoder.finish().unwrap();
        let inflate = |bytes: &[u8], kind, max| inflate_loose("ab", bytes, kind, max);
        assert_eq!(
            inflate(&whole, ObjectType::Blob, 5).unwrap().unwrap(),
            b"hello"
        );
        assert_eq!(inflate(&whole, ObjectType::Blob, 4).unwrap(), Err(5));
        assert!(inflate(&whole, ObjectType::Tree, 5).is_err());
        for cut in [0, 2, 10, whole.len() - 1] {
            let error = inflate(&whole[..cut], ObjectType::Blob, 5).unwrap_err();
            assert!(error.to_string().contains("corrupt"), "{cut}: {error}");
        }
    }

    #[test]
    fn odd_dates_are_unknown_not_errors() {
        for author in [
            "A <a@b> 1793000000",
            "A <a@b> 99999999999999999999 +0000",
            "A <a@b> 1793000000 +99",
            "A <a@b>",
            "no e-mail at all",
        ] {
            let data = format!(
                "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor {author}\ncommitter {author}\n\nx\n"
            );
            let commit = parse_commit(Oid::ZERO_SHA1, data.as_bytes()).unwrap();
            assert_eq!(commit.info.time, None, "{author}");
            assert_eq!(commit.info.date(), None, "{author}");
        }
    }

    #[test]
    fn the_earlier_of_author_and_committer_dates_is_the_evidence() {
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
            author A <a@b> 1796000000 +0000\ncommitter C <c@d> 1790000000 +0000\n\nx\n";
        let commit = parse_commit(Oid::ZERO_SHA1, data).unwrap();
        assert_eq!(commit.info.date().unwrap().to_string(), "2026-09-21");
    }
}
