//! Git's pack files, read without libgit2: an object's entry found through the pack's
//! index, inflated, and its deltas applied.
//!
//! libgit2 serialises every read of a pack behind one process-wide lock, so threads
//! reading history side by side wait on each other; these packs are plain bytes that
//! every thread reads at once. Only what is ordinary is read here — version 2 indexes of
//! the repository's own packs, objects within the size bound — and whatever is not
//! (an object elsewhere, a delta whose base is not in the packs, anything malformed) is
//! left to libgit2, which reads it or says why not.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::rc::Rc;

use flate2::{Decompress, FlushDecompress, Status};
use git2::{ObjectType, Oid};

/// The most bytes of packs read into memory; a larger object database is read through
/// libgit2 alone.
const MAX_PACK_BYTES: u64 = 256 << 20;

/// The largest object read: trees and commits of flag folders are small.
const MAX_OBJECT_BYTES: usize = 64 << 20;

/// The longest chain of deltas followed (git itself makes chains of at most 50 by
/// default, and never more than 4095).
const MAX_DELTA_CHAIN: usize = 4096;

/// The bytes of resolved objects kept as bases for the deltas read next.
const CACHE_BYTES: usize = 4 << 20;

/// The most bytes one object's chain of deltas may inflate and produce: a crafted pack
/// (deltas that copy their base over and over, or refer to themselves) is left to
/// libgit2 after bounded work, never read into all memory.
const MAX_CHAIN_BYTES: usize = 256 << 20;

/// The packs of an object database, read into memory; shared by every thread.
#[derive(Default)]
pub(super) struct Packs {
    packs: Vec<Pack>,
}

struct Pack {
    index: Vec<u8>,
    data: Vec<u8>,
    count: usize,
}

impl Packs {
    /// The packs under `objects/pack` whose index is of version 2, when together they
    /// are no larger than [`MAX_PACK_BYTES`]; else none (libgit2 reads everything).
    pub fn open(objects: &Path) -> Packs {
        let Ok(entries) = std::fs::read_dir(objects.join("pack")) else {
            return Packs::default();
        };
        let mut indexes: Vec<std::path::PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "idx"))
            .collect();
        indexes.sort();
        let size = |path: &Path| std::fs::metadata(path).map_or(u64::MAX, |m| m.len());
        let total = indexes.iter().fold(0u64, |sum, index| {
            sum.saturating_add(size(index))
                .saturating_add(size(&index.with_extension("pack")))
        });
        if total > MAX_PACK_BYTES {
            return Packs::default();
        }
        let packs = indexes
            .iter()
            .filter_map(|index| {
                let index_bytes = std::fs::read(index).ok()?;
                let data = std::fs::read(index.with_extension("pack")).ok()?;
                Pack::new(index_bytes, data)
            })
            .collect();
        Packs { packs }
    }

    /// The pack and offset of an object, when a pack holds it.
    fn find(&self, id: &[u8]) -> Option<(usize, usize)> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(number, pack)| Some((number, pack.offset_of(id)?)))
    }
}

impl Pack {
    fn new(index: Vec<u8>, data: Vec<u8>) -> Option<Pack> {
        // A version 2 index: magic, version, 256 fan-out counts, then ids, CRCs, offsets.
        if index.get(..8)? != b"\xfftOc\x00\x00\x00\x02" || data.get(..4)? != b"PACK" {
            return None;
        }
        let count = be32(&index, 8 + 255 * 4)? as usize;
        let needed = 8 + 256 * 4 + count.checked_mul(20 + 4 + 4)?;
        (index.len() >= needed).then_some(Pack { index, data, count })
    }

    fn offset_of(&self, id: &[u8]) -> Option<usize> {
        let first = usize::from(*id.first()?);
        let fanout = |byte: usize| be32(&self.index, 8 + byte * 4).map(|n| n as usize);
        let low = if first == 0 { 0 } else { fanout(first - 1)? };
        let high = fanout(first)?.min(self.count);
        let ids = 8 + 256 * 4;
        let (mut low, mut high) = (low, high);
        while low < high {
            let middle = (low + high) / 2;
            let at = ids + middle * 20;
            match self.index.get(at..at + 20)?.cmp(id) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return self.offset_at(middle),
            }
        }
        None
    }

    /// The offset in the pack of the `n`th object of the index.
    fn offset_at(&self, n: usize) -> Option<usize> {
        let offsets = 8 + 256 * 4 + self.count * 24;
        let small = be32(&self.index, offsets + n * 4)?;
        if small & 0x8000_0000 == 0 {
            return Some(small as usize);
        }
        let large = offsets + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
        let bytes: [u8; 8] = self.index.get(large..large + 8)?.try_into().ok()?;
        usize::try_from(u64::from_be_bytes(bytes)).ok()
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// An object as one pack entry stores it.
enum Stored {
    Whole(ObjectType),
    /// A delta against the object at an offset of the same pack.
    Delta(usize),
}

/// Where an entry is: its pack (by number) and its offset there.
type Place = (usize, usize);

/// One thread's reader of the packs: its inflater, and the objects it resolved lately
/// (the bases of the deltas it reads next).
pub(super) struct PackReader<'p> {
    packs: &'p Packs,
    inflater: Decompress,
    cache: HashMap<Place, (ObjectType, Rc<Vec<u8>>)>,
    /// The keys of `cache`, oldest first.
    order: VecDeque<Place>,
    cached_bytes: usize,
}

impl<'p> PackReader<'p> {
    pub fn new(packs: &'p Packs) -> PackReader<'p> {
        PackReader {
            packs,
            inflater: Decompress::new(true),
            cache: HashMap::new(),
            order: VecDeque::new(),
            cached_bytes: 0,
        }
    }

    /// The object `id` as its type and bytes, or `None` when the packs do not hold it
    /// or this reader cannot read it (libgit2 is asked then).
    pub fn read(&mut self, id: Oid) -> Option<(ObjectType, Rc<Vec<u8>>)> {
        let (pack, offset) = self.packs.find(id.as_bytes())?;
        self.object_at(pack, offset)
    }

    fn object_at(&mut self, pack: usize, offset: usize) -> Option<(ObjectType, Rc<Vec<u8>>)> {
        // Down the chain of deltas to a whole object (or one resolved before) ...
        let mut chain = Vec::new();
        let mut at = offset;
        let mut budget = MAX_CHAIN_BYTES;
        let (kind, mut data) = loop {
            if let Some((kind, data)) = self.cache.get(&(pack, at)) {
                break (*kind, data.clone());
            }
            let (stored, body) = self.entry(pack, at)?;
            match stored {
                Stored::Whole(kind) => {
                    let data = Rc::new(body);
                    self.remember(pack, at, kind, &data);
                    break (kind, data);
                }
                Stored::Delta(base) => {
                    budget = budget.checked_sub(body.len())?;
                    if chain.len() == MAX_DELTA_CHAIN || chain.iter().any(|(seen, _)| *seen == at) {
                        return None;
                    }
                    chain.push((at, body));
                    at = base;
                }
            }
        };
        // ... then back up, applying each delta to the object below it.
        while let Some((at, delta)) = chain.pop() {
            data = Rc::new(apply_delta(&data, &delta)?);
            budget = budget.checked_sub(data.len())?;
            self.remember(pack, at, kind, &data);
        }
        Some((kind, data))
    }

    /// Keeps a resolved tree for the deltas that follow (the bases of trees are trees),
    /// forgetting the trees kept longest ago when the cache is full: history is read in
    /// order, so the bases needed next are those read last.
    fn remember(&mut self, pack: usize, at: usize, kind: ObjectType, data: &Rc<Vec<u8>>) {
        if kind != ObjectType::Tree || data.len() > CACHE_BYTES / 4 {
            return;
        }
        while self.cached_bytes + data.len() > CACHE_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, gone)) = self.cache.remove(&oldest) {
                self.cached_bytes -= gone.len();
            }
        }
        if self
            .cache
            .insert((pack, at), (kind, data.clone()))
            .is_none()
        {
            self.cached_bytes += data.len();
            self.order.push_back((pack, at));
        }
    }

    /// The entry at `offset`: what it stores, and its inflated bytes.
    fn entry(&mut self, pack: usize, offset: usize) -> Option<(Stored, Vec<u8>)> {
        let data = &self.packs.packs[pack].data;
        let mut at = offset;
        let mut byte = *data.get(at)?;
        at += 1;
        let kind = (byte >> 4) & 7;
        let mut size = usize::from(byte & 15);
        let mut shift = 4;
        while byte & 0x80 != 0 {
            byte = *data.get(at)?;
            at += 1;
            if shift > 56 {
                return None;
            }
            size |= usize::from(byte & 0x7f) << shift;
            shift += 7;
        }
        let stored = match kind {
            1 => Stored::Whole(ObjectType::Commit),
            2 => Stored::Whole(ObjectType::Tree),
            3 => Stored::Whole(ObjectType::Blob),
            4 => Stored::Whole(ObjectType::Tag),
            6 => {
                // The base's distance back, in git's own variable-length encoding.
                byte = *data.get(at)?;
                at += 1;
                let mut distance = usize::from(byte & 0x7f);
                while byte & 0x80 != 0 {
                    byte = *data.get(at)?;
                    at += 1;
                    distance =
                        distance.checked_add(1)?.checked_mul(128)? | usize::from(byte & 0x7f);
                }
                Stored::Delta(offset.checked_sub(distance).filter(|_| distance > 0)?)
            }
            7 => {
                let base = data.get(at..at + 20)?;
                at += 20;
                let (base_pack, base_offset) = self.packs.find(base)?;
                if base_pack != pack {
                    return None;
                }
                Stored::Delta(base_offset)
            }
            _ => return None,
        };
        if size > MAX_OBJECT_BYTES {
            return None;
        }
        let body = self.inflate(data.get(at..)?, size)?;
        Some((stored, body))
    }

    /// Inflates the zlib stream at the start of `input` into exactly `size` bytes.
    fn inflate(&mut self, input: &[u8], size: usize) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(size);
        self.inflater.reset(true);
        // One byte of room more than expected: a stream that runs on is corrupt.
        out.reserve_exact(1);
        let status = self
            .inflater
            .decompress_vec(input, &mut out, FlushDecompress::Finish)
            .ok()?;
        (status == Status::StreamEnd && out.len() == size).then_some(out)
    }
}

/// `base` changed by a git delta: the sizes of source and result, then instructions to
/// copy a range of the base or insert bytes of the delta.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut at = 0;
    let mut size = || {
        let mut value = 0usize;
        let mut shift = 0;
        loop {
            let byte = *delta.get(at)?;
            at += 1;
            if shift > 56 {
                return None;
            }
            value |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
    };
    let (source, result) = (size()?, size()?);
    if source != base.len() || result > MAX_OBJECT_BYTES {
        return None;
    }
    let mut out = Vec::with_capacity(result);
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, shift: usize| -> Option<usize> {
                if op & bits == 0 {
                    return Some(0);
                }
                let byte = *delta.get(at)?;
                at += 1;
                Some(usize::from(byte) << shift)
            };
            let offset = field(1, 0)? | field(2, 8)? | field(4, 16)? | field(8, 24)?;
            let length = match field(0x10, 0)? | field(0x20, 8)? | field(0x40, 16)? {
                0 => 0x10000,
                length => length,
            };
            out.extend_from_slice(base.get(offset..offset.checked_add(length)?)?);
        } else if op != 0 {
            let length = usize::from(op);
            out.extend_from_slice(delta.get(at..at + length)?);
            at += length;
        } else {
            return None;
        }
        if out.len() > result {
            return None;
        }
    }
    (out.len() == result).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_copy_and_insert() {
        let base = b"0123456789";
        // Source 10, result 7: copy 4 bytes from offset 2, insert "xyz".
        let delta = [10, 7, 0x80 | 0x01 | 0x10, 2, 4, 3, b'x', b'y', b'z'];
        assert_eq!(apply_delta(base, &delta).unwrap(), b"2345xyz");
        // A wrong source size, a copy past the base, a result of another size: refused.
        assert_eq!(apply_delta(b"short", &delta), None);
        assert_eq!(apply_delta(base, &[10, 4, 0x80 | 0x01 | 0x10, 8, 4]), None);
        assert_eq!(apply_delta(base, &[10, 9, 0x02, b'a', b'b']), None);
        assert_eq!(apply_delta(base, &[10, 1, 0]), None);
        assert_eq!(apply_delta(base, &[]), None);
    }

    /// A pack of one object stored as a delta against `base`.
    fn one_delta(id: [u8; 20], base: [u8; 20], delta: &[u8]) -> Packs {
        use std::io::Write;
        let mut data = b"PACK\0\0\0\x02\0\0\0\x01".to_vec();
        assert!(delta.len() < 16);
        data.push((7 << 4) | delta.len() as u8);
        data.extend_from_slice(&base);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(delta).unwrap();
        data.extend(zlib.finish().unwrap());
        let mut index = b"\xfftOc\0\0\0\x02".to_vec();
        for byte in 0..256 {
            let count: u32 = (byte >= usize::from(id[0])).into();
            index.extend_from_slice(&count.to_be_bytes());
        }
        index.extend_from_slice(&id);
        index.extend_from_slice(&[0; 4]);
        index.extend_from_slice(&12u32.to_be_bytes());
        Packs {
            packs: vec![Pack::new(index, data).expect("a pack")],
        }
    }

    /// A delta whose base is itself, or an object the packs lack, is left to libgit2
    /// after bounded work.
    #[test]
    fn crafted_chains_of_deltas_end() {
        let id = [7u8; 20];
        let packs = one_delta(id, id, &[1, 1, 0x90, 1]);
        assert_eq!(packs.find(&id), Some((0, 12)));
        let mut reader = PackReader::new(&packs);
        assert!(reader.read(Oid::from_bytes(&id).unwrap()).is_none());
        let packs = one_delta(id, [9; 20], &[1, 1, 0x90, 1]);
        let mut reader = PackReader::new(&packs);
        assert!(reader.read(Oid::from_bytes(&id).unwrap()).is_none());
    }

    /// Every object of a repository packed by git reads as libgit2 reads it.
    #[test]
    fn packed_objects_read_as_libgit2_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_AUTHOR_NAME", "A")
                .env("GIT_AUTHOR_EMAIL", "a@b")
                .env("GIT_COMMITTER_NAME", "A")
                .env("GIT_COMMITTER_EMAIL", "a@b")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&["init", "-q"]);
        for round in 0..30 {
            for file in 0..5 {
                let text: String = (0..40)
                    .map(|line| {
                        format!("line {line} of file {file}, round {}\n", round * (line % 3))
                    })
                    .collect();
                std::fs::create_dir_all(dir.path().join(format!("d{}", file % 2))).unwrap();
                std::fs::write(dir.path().join(format!("d{}/f{file}.toml", file % 2)), text)
                    .unwrap();
            }
            git(&["add", "-A"]);
            git(&["commit", "-q", "-m", &format!("round {round}")]);
        }
        git(&["gc", "-q", "--aggressive"]);
        let repo = git2::Repository::open(dir.path()).unwrap();
        let packs = Packs::open(&repo.path().join("objects"));
        assert_eq!(packs.packs.len(), 1);
        let mut reader = PackReader::new(&packs);
        let odb = repo.odb().unwrap();
        let mut count = 0;
        odb.foreach(|id| {
            let object = odb.read(*id).unwrap();
            let (kind, data) = reader.read(*id).expect("a packed object");
            assert_eq!(kind, object.kind());
            assert_eq!(data.as_slice(), object.data());
            count += 1;
            true
        })
        .unwrap();
        assert!(count > 100, "{count}");
        assert!(reader.read(Oid::ZERO_SHA1).is_none());
    }
}
