//! The walk over the source trees: parallel, honouring `.gitignore` and `.ignore`,
//! never following a symlink and never reading outside the repository.

use std::io::Read;
use std::path::{Component, Path};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Options, Skipped};

/// The largest source file read: beyond it a file is generated or data, and is named
/// in the scan's skipped files instead.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// How much of a file's start is looked at to tell a binary file (a NUL byte), as git
/// and ripgrep do.
const BINARY_PROBE: usize = 8 << 10;

/// What the walk hands back per file: the result of `read`, or why it was skipped.
pub(super) enum Visit<T> {
    Read(T),
    Skipped(Skipped),
}

/// The visited files by path, in path order.
pub(super) type Visited<T> = Vec<(String, Visit<T>)>;

/// Paths given on the command line, made relative to `root` with `/`. A path outside
/// the repository, or one that does not exist, is an error naming it.
pub fn resolve_paths(root: &Path, paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<String>> {
    let real_root = root.canonicalize()?;
    paths
        .iter()
        .map(|path| {
            let real = path.canonicalize().map_err(|e| {
                anyhow::anyhow!("{}: {e}; give a folder or file to scan", path.display())
            })?;
            let relative = real.strip_prefix(&real_root).map_err(|_| {
                anyhow::anyhow!(
                    "{} is outside the repository at {}; flagctl scans only the repository's own files",
                    path.display(),
                    root.display()
                )
            })?;
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Ok(if parts.is_empty() {
                ".".to_string()
            } else {
                parts.join("/")
            })
        })
        .collect()
}

/// Whether `rel` (relative, with `/`) is one of `prefixes` or inside one.
fn within(rel: &str, prefix: &str) -> bool {
    prefix == "." || rel == prefix || rel.starts_with(&format!("{prefix}/"))
}

/// Normalises a configured path: `./src/` → `src`, `.` or `` → `.`.
fn normal(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Which paths a scan reads: the scanned paths, without the skipped folders (the flags
/// folder) and the `exclude` globs of `[refs]`. Paths are relative to the repository
/// root, with `/`.
pub(crate) struct Scope {
    scanned: Vec<String>,
    skip: Vec<String>,
    excludes: globset::GlobSet,
}

impl Scope {
    pub fn new(options: &Options) -> anyhow::Result<Scope> {
        let scanned: Vec<String> = options.paths.iter().map(|p| normal(p)).collect();
        for path in &scanned {
            if Path::new(path)
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
            {
                anyhow::bail!("{path}: not a path inside the repository");
            }
        }
        Ok(Scope {
            scanned,
            skip: options.skip.iter().map(|p| normal(p)).collect(),
            excludes: crate::model::config::compile_excludes(&options.config.exclude)
                .map_err(|why| anyhow::anyhow!("[refs] exclude: {why}"))?,
        })
    }

    /// Whether the file (or, with `is_dir`, the folder) at `rel` is read or entered.
    pub fn wants(&self, rel: &str, is_dir: bool) -> bool {
        if rel.is_empty() {
            return true;
        }
        if self.skip.iter().any(|s| s != "." && within(rel, s)) || self.excludes.is_match(rel) {
            return false;
        }
        // A folder on the way to a scanned path is entered; files only inside one.
        self.scanned
            .iter()
            .any(|p| within(rel, p) || (is_dir && (p.starts_with(&format!("{rel}/")))))
    }

    /// As [`Scope::wants`], for a path of a tree read from git: hidden files and folders
    /// are left out too, and names holding a control character, as the walk of the work
    /// tree leaves them out.
    pub fn wants_committed(&self, rel: &str, is_dir: bool) -> bool {
        !rel.split('/').any(|part| part.starts_with('.'))
            && !rel.chars().any(crate::model::source::is_hidden)
            && self.wants(rel, is_dir)
    }
}

/// Walks the scanned paths and calls `read` with each text file's path and bytes, on
/// every core. Returns how many files were read, and the results sorted by path.
pub(super) fn walk<T: Send>(
    options: &Options,
    read: &(dyn Fn(&str, &[u8]) -> Option<T> + Sync),
) -> anyhow::Result<(usize, Visited<T>)> {
    let root = options.root.canonicalize()?;
    let scope = Scope::new(options)?;
    let results = Mutex::new(Vec::new());
    let count = AtomicUsize::new(0);
    let relative = |path: &Path| -> Option<String> {
        let rel = path.strip_prefix(&root).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(parts.join("/"))
    };
    let wanted = |rel: &str, is_dir: bool| scope.wants(rel, is_dir);
    let walker = ignore::WalkBuilder::new(&root)
        .follow_links(false)
        .parents(false)
        .git_global(false)
        .require_git(false)
        .build_parallel();
    walker.run(|| {
        let results = &results;
        let count = &count;
        let relative = &relative;
        let wanted = &wanted;
        let mut buffer = Vec::new();
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            let Some(file_type) = entry.file_type() else {
                return ignore::WalkState::Continue;
            };
            let Some(rel) = relative(entry.path()) else {
                return ignore::WalkState::Continue;
            };
            if file_type.is_dir() {
                return if wanted(&rel, true) {
                    ignore::WalkState::Continue
                } else {
                    ignore::WalkState::Skip
                };
            }
            // Symlinks, FIFOs, sockets and devices are never opened.
            if !file_type.is_file() || !wanted(&rel, false) {
                return ignore::WalkState::Continue;
            }
            // A name with a line break (or any control character) could forge lines of
            // the output where it is shown: it is noted, escaped, and not read.
            let (rel, read_it) = if rel.chars().any(crate::model::source::is_hidden) {
                (
                    rel,
                    Err("its name holds a control character; rename it".to_string()),
                )
            } else {
                let read_it = read_source(entry.path(), &mut buffer);
                (rel, read_it)
            };
            let visit = match read_it {
                Ok(true) => {
                    let done = count.fetch_add(1, Ordering::Relaxed) + 1;
                    if done.is_multiple_of(256) {
                        (options.progress)(done);
                    }
                    read(&rel, &buffer).map(Visit::Read)
                }
                Ok(false) => None,
                Err(reason) => Some(Visit::Skipped(Skipped {
                    path: rel.clone(),
                    reason,
                })),
            };
            if let Some(visit) = visit {
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((rel, visit));
            }
            ignore::WalkState::Continue
        })
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let count = count.load(Ordering::Relaxed);
    (options.progress)(count);
    Ok((count, results))
}

/// Why a file of `size` bytes is left out.
pub(super) fn too_large(size: u64) -> String {
    format!(
        "it is {size} bytes, more than the {MAX_SOURCE_BYTES} ({} MiB) flagctl reads of one source file",
        MAX_SOURCE_BYTES >> 20
    )
}

/// Whether a file is binary: a NUL byte near its start, as git and ripgrep tell.
pub(super) fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_PROBE)].contains(&0)
}

/// Reads a file into `bytes` (a buffer each thread reuses); `false` for a binary file;
/// `Err` with the reason for one too large or unreadable. The walk saw a regular file:
/// it is opened without following a symlink or waiting on a FIFO (either may have taken
/// its place since), and read up to the bound, with no lookup of its size first.
fn read_source(path: &Path, bytes: &mut Vec<u8>) -> Result<bool, String> {
    let file = crate::repo::confine::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    bytes.clear();
    (&file)
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        let size = file.metadata().map_or(bytes.len() as u64, |m| m.len());
        bytes.clear();
        return Err(too_large(size));
    }
    Ok(!is_binary(bytes))
}
