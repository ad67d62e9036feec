//! What each textual hit of a file is: read by a parser where flagctl has one for the
//! file's language, else by its delimiters.

use std::ops::Range;

use super::matcher::{How, Matcher};
use super::syntax::{self, Language, Syntax};
use super::walk::Visit;
use super::{FlagRefs, RefKind, Reference, Scan, Skipped, Target, UnknownRef, line_text};

/// The references one file holds.
#[derive(Debug, PartialEq)]
pub(super) struct FileRefs {
    /// (target index, reference)
    refs: Vec<(usize, Reference)>,
    unknown: Vec<(String, Reference)>,
    parsed: bool,
    /// How many times the file names flags, when it is more than [`MAX_REFS_PER_FILE`]:
    /// then none of them is listed.
    too_many: Option<usize>,
}

/// The most references one file may hold: a generated file that names flags hundreds of
/// thousands of times is noted as skipped, not listed use by use.
pub const MAX_REFS_PER_FILE: usize = 10_000;

/// Classifies the hits of one file; `None` when it holds none.
pub(super) fn file(
    matcher: &Matcher,
    targets: &[Target],
    path: &str,
    bytes: &[u8],
    parse: bool,
) -> Option<FileRefs> {
    file_read(matcher, targets, path, bytes, parse, Read::Windows)
}

/// How a parsed file is read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Read {
    /// Only the statements around its hits, where they can be told apart (see `window`).
    Windows,
    /// Whole: what the windows must agree with.
    #[cfg_attr(not(test), allow(dead_code))]
    Whole,
}

pub(super) fn file_read(
    matcher: &Matcher,
    targets: &[Target],
    path: &str,
    bytes: &[u8],
    parse: bool,
    read: Read,
) -> Option<FileRefs> {
    let found = matcher.find(bytes);
    if found.hits.is_empty() && found.unknown.is_empty() && !found.method {
        return None;
    }
    if let Some(named) = too_many(&found) {
        return Some(FileRefs {
            refs: Vec::new(),
            unknown: Vec::new(),
            parsed: false,
            too_many: Some(named),
        });
    }
    let mut lines = Lines::new(bytes);
    let mut refs = Vec::new();
    let mut unknown = Vec::new();
    let parsed = Language::of_path(path)
        .filter(|_| parse)
        .zip(std::str::from_utf8(bytes).ok());
    let syntax = parsed.map(|(language, text)| match read {
        Read::Windows => read_windows(language, text, &matcher.accessors, &found),
        Read::Whole => syntax::read(language, text, &matcher.accessors),
    });
    let mut reference = |span: Range<usize>, kind: RefKind| {
        let (line, column) = lines.at(span.start);
        Reference {
            path: path.to_string(),
            line,
            column,
            kind,
            method: None,
            default: None,
            text: line_text(bytes, span.start),
            value_type: None,
            default_text: None,
            span,
        }
    };
    // Calls first: the hits inside their key argument are theirs.
    let mut claimed: Vec<Range<usize>> = Vec::new();
    if let Some(syntax) = &syntax {
        for call in &syntax.calls {
            let Some(key) = &call.key else { continue };
            let kind = if call.accessor {
                RefKind::Accessor
            } else {
                RefKind::Call
            };
            let mut r = reference(super::key_text(bytes, &call.key_span, key), kind);
            r.method = Some(call.method.clone());
            r.default = call.default.clone();
            r.default_text = call.default_text.as_deref().map(super::one_line);
            r.value_type = call.value_type;
            match targets.binary_search_by(|t| t.key.as_str().cmp(key)) {
                Ok(target) => refs.push((target, r)),
                Err(_) if !call.accessor => unknown.push((key.clone(), r)),
                Err(_) => {}
            }
            claimed.push(call.key_span.clone());
        }
    }
    // Key spans of calls do not overlap: the one starting last at or before a hit is the
    // only one that can hold it.
    claimed.sort_unstable_by_key(|c| c.start);
    for hit in &found.hits {
        let before = claimed.partition_point(|c| c.start <= hit.start);
        if before > 0 && hit.end <= claimed[before - 1].end {
            continue;
        }
        let kind = match (&syntax, hit.how) {
            (Some(syntax), how) => parsed_kind(syntax, hit.start..hit.end, how),
            (None, How::Key) => RefKind::Text,
            (None, How::Alias) => RefKind::Alias,
            (None, How::Pattern) => RefKind::Pattern,
        };
        refs.push((hit.target, reference(hit.start..hit.end, kind)));
    }
    for hit in &found.unknown {
        let inside_comment = syntax
            .as_ref()
            .is_some_and(|s| contains(&s.comments, &(hit.start..hit.end)));
        if !inside_comment {
            unknown.push((
                hit.key.clone(),
                reference(hit.start..hit.end, RefKind::Pattern),
            ));
        }
    }
    Some(FileRefs {
        refs,
        unknown,
        parsed: syntax.is_some(),
        too_many: None,
    })
}

/// How many times a file names flags, when it is more than [`MAX_REFS_PER_FILE`].
pub(super) fn too_many(found: &super::matcher::Found) -> Option<usize> {
    let named = found.hits.len() + found.unknown.len();
    (named > MAX_REFS_PER_FILE).then_some(named)
}

/// Reads the statements around the hits, SDK method names and pattern matches of a file
/// (Go's short forms, `client.String(ctx, key, …)`, too: common words the matcher does not
/// look for), when the windows around them parse without an error; else the whole file.
fn read_windows(
    language: Language,
    text: &str,
    accessors: &std::collections::HashMap<String, String>,
    found: &super::matcher::Found,
) -> Syntax {
    let mut anchors: Vec<usize> = found
        .hits
        .iter()
        .map(|h| h.start)
        .chain(found.unknown.iter().map(|u| u.start))
        .chain(found.methods.iter().copied())
        .collect();
    if language == Language::Go {
        anchors.extend(go_short_forms(text.as_bytes()));
    }
    if let Some(windows) = super::window::windows(language, text, &anchors) {
        let syntax = syntax::read(language, &windows.text, accessors);
        if !syntax.has_errors {
            return windows.to_file(syntax);
        }
    }
    syntax::read(language, text, accessors)
}

/// Where Go's error-less SDK methods (`Boolean`, `String`, `Int`, `Float`, `Object`) occur
/// as whole words.
fn go_short_forms(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    static WORDS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new(["Boolean", "String", "Int", "Float", "Object"])
            .expect("five words build an automaton")
    });
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    WORDS.find_iter(bytes).filter_map(move |m| {
        let joined = (m.start() > 0 && word(bytes[m.start() - 1]))
            || bytes.get(m.end()).is_some_and(|&b| word(b));
        (!joined).then_some(m.start())
    })
}

/// A hit outside any SDK call, in a parsed file.
fn parsed_kind(syntax: &Syntax, span: Range<usize>, how: How) -> RefKind {
    if contains(&syntax.comments, &span) {
        RefKind::Comment
    } else if how == How::Pattern {
        RefKind::Pattern
    } else if contains(&syntax.strings, &span) {
        RefKind::String
    } else if how == How::Key {
        // Between delimiters but in no string the parser saw (a syntax error nearby).
        RefKind::Text
    } else {
        RefKind::Alias
    }
}

/// Whether one of `ranges` (sorted by start, not nested) holds `span`.
fn contains(ranges: &[Range<usize>], span: &Range<usize>) -> bool {
    let after = ranges.partition_point(|r| r.start <= span.start);
    ranges[..after]
        .iter()
        .rev()
        .take(4)
        .any(|r| r.start <= span.start && span.end <= r.end)
}

/// Gathers the files' references per flag.
pub(super) fn collect(targets: &[Target], files: Vec<(String, Visit<FileRefs>)>) -> Scan {
    let mut scan = Scan {
        flags: targets
            .iter()
            .map(|t| FlagRefs {
                flag: t.key.clone(),
                archived: t.archived,
                references: Vec::new(),
            })
            .collect(),
        ..Scan::default()
    };
    let keys: Vec<&str> = targets.iter().map(|t| t.key.as_str()).collect();
    for (path, visit) in files {
        match visit {
            Visit::Skipped(skipped) => scan.skipped.push(skipped),
            Visit::Read(FileRefs {
                too_many: Some(named),
                ..
            }) => scan.skipped.push(Skipped {
                path,
                reason: format!(
                    "it names flags {named} times, more than the {MAX_REFS_PER_FILE} flagctl lists of one file (a generated file?)"
                ),
            }),
            Visit::Read(file) => {
                scan.parsed += usize::from(file.parsed);
                for (target, reference) in file.refs {
                    scan.flags[target].references.push(reference);
                }
                for (key, reference) in file.unknown {
                    let did_you_mean =
                        crate::model::names::did_you_mean(&key, keys.iter().copied())
                            .map(str::to_string);
                    scan.unknown.push(UnknownRef {
                        key,
                        did_you_mean,
                        reference,
                    });
                }
            }
        }
    }
    for flag in &mut scan.flags {
        flag.references
            .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    }
    scan
}

/// Line and column of offsets visited in any order, counted incrementally.
/// The length of the UTF-8 byte order mark `bytes` start with, or 0.
pub(super) fn bom_len(bytes: &[u8]) -> usize {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

struct Lines<'a> {
    bytes: &'a [u8],
    /// Start offsets of the lines seen so far.
    starts: Vec<usize>,
    /// How far the bytes were searched for line ends.
    scanned: usize,
    /// The last position asked for: offset, line index, column. The next on the same line
    /// counts its column from there, so a long line with many hits is read once.
    last: Option<(usize, usize, usize)>,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines {
            bytes,
            // A byte order mark is no column of the first line, as editors show it.
            starts: vec![bom_len(bytes)],
            scanned: 0,
            last: None,
        }
    }

    fn at(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.bytes.len()).max(self.starts[0]);
        if self.scanned < offset {
            let from = self.scanned;
            self.starts.extend(
                memchr::memchr_iter(b'\n', &self.bytes[from..offset]).map(|i| from + i + 1),
            );
            self.scanned = offset;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let chars =
            |range: Range<usize>| String::from_utf8_lossy(&self.bytes[range]).chars().count();
        let column = match self.last {
            Some((before, at_line, column)) if at_line == line && before <= offset => {
                column + chars(before..offset)
            }
            _ => chars(self.starts[line]..offset),
        };
        self.last = Some((offset, line, column));
        (line + 1, column + 1)
    }
}
