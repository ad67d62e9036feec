//! Code references: where each flag key occurs in the source trees of the repository,
//! and what each occurrence is.
//!
//! One parallel walk (honouring `.gitignore` and `.ignore`, never following symlinks)
//! reads each file once; one automaton finds every key, alias and SDK method name in
//! it; only files with a hit in a language flagctl has a parser for are parsed, and
//! the parser says whether each hit is an SDK evaluation call, a typed accessor, a
//! string or a comment. Other files count a key between delimiters.
//!
//! The same matcher and classifier read the code of a commit, to compare it with the
//! work tree (`diff`), and the files each commit of the history changed, to find when a
//! flag lost its last use (`history`).

mod classify;
pub mod diff;
pub mod history;
mod matcher;
pub mod syntax;
mod walk;
mod window;

use std::ops::Range;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::model::config::RefsConfig;
pub use syntax::{Language, ValueType};
pub use walk::resolve_paths;

/// What an occurrence of a flag key in code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RefKind {
    /// The key argument of an OpenFeature SDK evaluation call, read by a parser.
    Call,
    /// A typed accessor the OpenFeature CLI generates for the flag.
    Accessor,
    /// Another string literal, read by a parser.
    String,
    /// A comment: listed, but not a use.
    Comment,
    /// An alias of `[refs]` or a case form of the key, as a whole identifier.
    Alias,
    /// A match of one of the `patterns` of `[refs]`.
    Pattern,
    /// The key between delimiters, in a file no parser reads.
    Text,
}

impl RefKind {
    /// Whether the reference reads the flag: everything but a comment.
    pub fn is_use(self) -> bool {
        self != RefKind::Comment
    }

    pub fn name(self) -> &'static str {
        match self {
            RefKind::Call => "call",
            RefKind::Accessor => "accessor",
            RefKind::String => "string",
            RefKind::Comment => "comment",
            RefKind::Alias => "alias",
            RefKind::Pattern => "pattern",
            RefKind::Text => "text",
        }
    }
}

/// One occurrence of a flag key (or alias) in a source file.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Reference {
    /// The file, relative to the repository root, with `/`.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub kind: RefKind,
    /// The SDK method or typed accessor, for `call` and `accessor`.
    pub method: Option<String>,
    /// The default value the code passes to the SDK, when it is a literal.
    pub default: Option<Value>,
    /// The line of code, without its indentation (at most 300 characters).
    pub text: String,
    /// The type the SDK method reads, for `call` and `accessor`.
    #[serde(skip)]
    pub value_type: Option<ValueType>,
    /// The default argument's source text, when there is one.
    #[serde(skip)]
    pub default_text: Option<String>,
    /// Byte range of the occurrence in the file.
    #[serde(skip)]
    pub span: std::ops::Range<usize>,
}

/// The references to one flag.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FlagRefs {
    pub flag: String,
    pub archived: bool,
    /// In path, line and column order.
    pub references: Vec<Reference>,
}

impl FlagRefs {
    /// The references that read the flag (comments are not uses).
    pub fn uses(&self) -> impl Iterator<Item = &Reference> {
        self.references.iter().filter(|r| r.kind.is_use())
    }
}

/// An SDK call (or `[refs]` pattern) naming a key that is no flag.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UnknownRef {
    /// The key the code names.
    pub key: String,
    /// The nearest flag key, when one is close enough to be a likely typo.
    pub did_you_mean: Option<String>,
    #[serde(flatten)]
    pub reference: Reference,
}

/// A file the scan left out, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

impl Skipped {
    /// "path left out: reason", the path's hidden characters escaped.
    pub fn note(&self) -> String {
        format!(
            "{} left out: {}",
            crate::model::source::shown(&self.path),
            self.reason
        )
    }
}

/// Everything one scan found.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Scan {
    /// Every flag, live and archived, in key order, with its references.
    pub flags: Vec<FlagRefs>,
    /// SDK calls and pattern matches whose key is no flag.
    pub unknown: Vec<UnknownRef>,
    /// Files read.
    pub files: usize,
    /// Files read with a parser.
    pub parsed: usize,
    /// Files left out (too large, unreadable); binary files are left out silently.
    pub skipped: Vec<Skipped>,
}

impl Scan {
    pub fn of(&self, key: &str) -> Option<&FlagRefs> {
        self.flags
            .binary_search_by(|f| f.flag.as_str().cmp(key))
            .ok()
            .map(|i| &self.flags[i])
    }
}

/// A flag to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub key: String,
    pub archived: bool,
}

/// The flags of a repository, live and archived, as targets of a scan, from the paths of
/// their files and whether each is archived ([`crate::repo::Repo::flag_files`]): a
/// flag's key is its file's name.
pub fn targets<'a>(files: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<Target> {
    let mut targets: Vec<Target> = files
        .into_iter()
        .filter_map(|(path, archived)| {
            crate::model::names::key_of_file(path).map(|key| Target {
                key: key.to_string(),
                archived,
            })
        })
        .collect();
    targets.sort_by(|a, b| a.key.cmp(&b.key).then(a.archived.cmp(&b.archived)));
    targets.dedup_by(|a, b| a.key == b.key);
    targets
}

/// What to scan and how.
pub struct Options<'a> {
    /// The repository root: nothing outside it is read.
    pub root: &'a Path,
    pub config: &'a RefsConfig,
    /// Folders and files to scan, relative to the root (validated by [`resolve_paths`]).
    pub paths: &'a [String],
    /// Folders never scanned, relative to the root (the flags folder).
    pub skip: &'a [String],
    /// Read files with a parser where flagctl has one; `false` counts every key between
    /// delimiters as `text` (faster, but no SDK calls, types or comments).
    pub parse: bool,
    /// Called with the number of files read so far, now and then (for a progress bar).
    pub progress: &'a (dyn Fn(usize) + Sync),
}

/// Scans the source trees for every target.
pub fn scan(targets: &[Target], options: &Options) -> anyhow::Result<Scan> {
    let matcher = matcher::Matcher::new(targets, options.config, options.parse)?;
    let (read, files) = walk::walk(options, &|path, bytes| {
        classify::file(&matcher, targets, path, bytes, options.parse)
    })?;
    // Freeing the automata and the names of every flag takes a while: on another core,
    // while the scan is reported.
    rayon::spawn(move || drop(matcher));
    let mut scan = classify::collect(targets, files);
    scan.files = read;
    Ok(scan)
}

/// Scans the source trees for the targets alone: a file is parsed only when one of them
/// occurs in it (no search for calls with misspelt keys), so a scan for a few flags, as
/// `cleanup` makes, costs the files that name them.
pub fn scan_only(targets: &[Target], options: &Options) -> anyhow::Result<Scan> {
    let matcher = matcher::Matcher::new(targets, options.config, options.parse)?;
    let (read, files) = walk::walk(options, &|path, bytes| {
        if matcher.find(bytes).hits.is_empty() {
            return None;
        }
        classify::file(&matcher, targets, path, bytes, options.parse)
    })?;
    let mut scan = classify::collect(targets, files);
    scan.files = read;
    Ok(scan)
}

/// Scans files given as texts (for tests and for trees read from git), in path order.
pub fn scan_texts(
    targets: &[Target],
    config: &RefsConfig,
    files: &[(&str, &str)],
) -> anyhow::Result<Scan> {
    let mut scan = TextScan::new(targets, config)?;
    for (path, text) in files {
        scan.add(path.to_string(), text.as_bytes().to_vec());
    }
    Ok(scan.finish())
}

/// Files handed over one at a time (a tree read from git), classified in batches on
/// every core, as the walk of the work tree classifies them.
pub(crate) struct TextScan<'t> {
    matcher: matcher::Matcher,
    targets: &'t [Target],
    batch: Vec<(String, Vec<u8>)>,
    batch_bytes: usize,
    files: walk::Visited<classify::FileRefs>,
    read: usize,
}

impl<'t> TextScan<'t> {
    /// How many bytes of files wait to be classified together: enough for every core,
    /// little enough that a large tree is never held whole.
    const BATCH_BYTES: usize = 32 << 20;

    pub(crate) fn new(targets: &'t [Target], config: &RefsConfig) -> anyhow::Result<Self> {
        Ok(TextScan {
            matcher: matcher::Matcher::new(targets, config, true)?,
            targets,
            batch: Vec::new(),
            batch_bytes: 0,
            files: Vec::new(),
            read: 0,
        })
    }

    /// A file's bytes; a binary file is left out, as the walk leaves it out.
    pub(crate) fn add(&mut self, path: String, bytes: Vec<u8>) {
        if walk::is_binary(&bytes) {
            return;
        }
        self.read += 1;
        self.batch_bytes += bytes.len();
        self.batch.push((path, bytes));
        if self.batch_bytes >= Self::BATCH_BYTES {
            self.classify();
        }
    }

    /// A file left out of the scan, and why.
    pub(crate) fn skip(&mut self, skipped: Skipped) {
        self.files
            .push((skipped.path.clone(), walk::Visit::Skipped(skipped)));
    }

    fn classify(&mut self) {
        use rayon::prelude::*;
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let (matcher, targets) = (&self.matcher, self.targets);
        let classified: Vec<_> = batch
            .into_par_iter()
            .filter_map(|(path, bytes)| {
                classify::file(matcher, targets, &path, &bytes, true)
                    .map(|refs| (path, walk::Visit::Read(refs)))
            })
            .collect();
        self.files.extend(classified);
    }

    pub(crate) fn finish(mut self) -> Scan {
        self.classify();
        let mut files = self.files;
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut scan = classify::collect(self.targets, files);
        scan.files = self.read;
        scan
    }
}

/// Counts the uses of some of the flags in files, with the scan's own matcher and
/// classifier: what the history of references compares, commit by commit.
pub(crate) struct UseCounter<'t> {
    matcher: matcher::Matcher,
    targets: &'t [Target],
    /// The targets counted. The others are matched all the same, so that a text is read
    /// exactly as the scan reads it.
    counted: Vec<bool>,
    /// The counted keys as plain text, by target: a file that holds none of them, nor
    /// a hit of one, holds no use of one.
    keys: aho_corasick::AhoCorasick,
    key_targets: Vec<usize>,
}

impl<'t> UseCounter<'t> {
    pub(crate) fn new(
        targets: &'t [Target],
        config: &RefsConfig,
        counted: &[usize],
    ) -> anyhow::Result<Self> {
        let mut is_counted = vec![false; targets.len()];
        for &target in counted {
            is_counted[target] = true;
        }
        Ok(UseCounter {
            matcher: matcher::Matcher::new(targets, config, true)?,
            targets,
            counted: is_counted,
            keys: aho_corasick::AhoCorasick::new(counted.iter().map(|&t| &targets[t].key))?,
            key_targets: counted.to_vec(),
        })
    }

    /// Stops counting a target (its answer is known).
    pub(crate) fn stop(&mut self, target: usize) {
        self.counted[target] = false;
    }

    /// The uses of each counted target in one file, as (target, uses), for those it uses.
    pub(crate) fn uses(&self, path: &str, bytes: &[u8]) -> Vec<(usize, usize)> {
        if walk::is_binary(bytes) {
            return Vec::new();
        }
        let found = self.matcher.find(bytes);
        let hit = found.hits.iter().any(|h| self.counted[h.target]);
        // An SDK call can name a key between other delimiters than `[refs]` has: a file
        // with an SDK method and a counted key is classified too.
        let named = || {
            found.method
                && self
                    .keys
                    .find_overlapping_iter(bytes)
                    .any(|m| self.counted[self.key_targets[m.pattern().as_usize()]])
        };
        if !hit && !named() {
            return Vec::new();
        }
        if classify::too_many(&found).is_some() {
            // Too many to classify (a generated file): each key found counts as a use, so
            // such a file never ends a flag's use.
            let mut counts = vec![0usize; self.counted.len()];
            for hit in found.hits.iter().filter(|h| self.counted[h.target]) {
                counts[hit.target] += 1;
            }
            return counts
                .into_iter()
                .enumerate()
                .filter(|(_, uses)| *uses > 0)
                .collect();
        }
        let Some(refs) = classify::file(&self.matcher, self.targets, path, bytes, true) else {
            return Vec::new();
        };
        let scan = classify::collect(
            self.targets,
            vec![(path.to_string(), walk::Visit::Read(refs))],
        );
        scan.flags
            .iter()
            .enumerate()
            .filter(|(target, _)| self.counted[*target])
            .map(|(target, flag)| (target, flag.uses().count()))
            .filter(|(_, uses)| *uses > 0)
            .collect()
    }
}

/// The key's own text in the literal at `literal` (after its quote): where a reference to
/// it is placed, as for every other kind of reference; the whole literal when its text is
/// escaped.
pub(crate) fn key_text(bytes: &[u8], literal: &Range<usize>, key: &str) -> Range<usize> {
    bytes
        .get(literal.clone())
        .and_then(|text| memchr::memmem::find(text, key.as_bytes()))
        .map_or(literal.clone(), |offset| {
            let at = literal.start + offset;
            at..at + key.len()
        })
}

/// The line of `bytes` holding `offset`, trimmed and shortened, for display.
/// Of a longer line, the bytes shown are those within [`LINE_REACH`] bytes of the use, so
/// that a line of megabytes with thousands of uses is not read once per use.
pub(crate) fn line_text(bytes: &[u8], offset: usize) -> String {
    let offset = offset.min(bytes.len());
    let low = offset.saturating_sub(LINE_REACH);
    let high = offset.saturating_add(LINE_REACH).min(bytes.len());
    let (start, cut_before) = match memchr::memrchr(b'\n', &bytes[low..offset]) {
        Some(i) => (low + i + 1, false),
        None if low == 0 => (classify::bom_len(&bytes[..offset]), false),
        None => (char_start(bytes, low), true),
    };
    let (end, cut_after) = match memchr::memchr(b'\n', &bytes[offset..high]) {
        Some(i) => (offset + i, false),
        None => (char_start(bytes, high), high < bytes.len()),
    };
    let line = String::from_utf8_lossy(&bytes[start..end]);
    let line = line.trim();
    let mut shown = match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None if cut_after => format!("{line}…"),
        None => line.to_string(),
    };
    if cut_before {
        shown.insert(0, '…');
    }
    shown
}

/// A default argument's source text on one line, for display: each line break with the
/// indentation around it becomes one space, at most 80 characters are kept, and hidden
/// characters are escaped.
pub(crate) fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let cut = match joined.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &joined[..at]),
        None => joined,
    };
    crate::model::source::shown(&cut).into_owned()
}

/// How far from a use its line is read for display.
const LINE_REACH: usize = 1024;

/// `at`, moved back to the start of the UTF-8 character it falls in.
fn char_start(bytes: &[u8], mut at: usize) -> usize {
    while at > 0 && at < bytes.len() && bytes[at] & 0xC0 == 0x80 {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_shows_on_one_line_and_forges_none() {
        assert_eq!(one_line("{\n  \"a\": 1,\n}"), "{ \"a\": 1, }");
        assert_eq!(
            one_line("\"\"\"\nfake: 1 use\n\"\"\""),
            "\"\"\" fake: 1 use \"\"\""
        );
        assert_eq!(one_line("\"a\u{1b}[31m\rb\""), "\"a\\u{1b}[31m\\rb\"");
        assert_eq!(one_line(&"x".repeat(100)).chars().count(), 81);
        assert_eq!(one_line("0.8"), "0.8");
    }

    #[test]
    fn a_byte_order_mark_is_no_column() {
        let targets = [Target {
            key: "ranker-v2".into(),
            archived: false,
        }];
        let scan = scan_texts(
            &targets,
            &RefsConfig::default(),
            &[("a.py", "\u{feff}x = \"ranker-v2\"\n")],
        )
        .unwrap();
        let reference = &scan.flags[0].references[0];
        assert_eq!((reference.line, reference.column), (1, 6));
        assert_eq!(reference.text, "x = \"ranker-v2\"");
    }

    #[test]
    fn a_key_is_placed_at_its_text_not_its_quote() {
        let bytes = b"f(\"ranker-v2\")";
        assert_eq!(key_text(bytes, &(2..13), "ranker-v2"), 3..12);
        // An escaped key is not found in its literal: the whole literal.
        assert_eq!(key_text(b"f(\"a\\x2db\")", &(2..11), "a-b"), 2..11);
    }
}
