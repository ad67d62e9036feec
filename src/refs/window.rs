//! Parsing only the statements around the hits of a file, not the whole file: tree-sitter
//! reads about 8 MB/s, and a file of ordinary code with six calls in it is mostly code no
//! hit is in.
//!
//! A lexical pass over the file (comments, strings of every form, bracket depth) finds,
//! for each anchor (a hit, an SDK method name, a pattern match), the statement around it:
//! from the latest line that starts in code, at the lowest bracket depth between it and
//! the anchor, to the first end of line after it back at that depth. The windows are put
//! one after the other, those inside a function or class in a wrapper for the grammar to
//! accept them (`func _(){` … `}`), and parsed together once; what the parser finds is
//! moved back to the file's offsets. Whenever a window cannot be bounded, the lexer ends
//! in a string, a comment or with open brackets, or the parse of the windows has an
//! error, the caller parses the whole file instead: the windows are only used when the
//! parser reads them as complete code.

use super::syntax::{Language, Syntax};

/// The longest window: a statement longer than this is parsed with its whole file.
const MAX_WINDOW: usize = 4096;

/// One line, as the lexer saw it.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    /// The line starts in code: not inside a string or a comment.
    code: bool,
    /// Bracket depth at its start.
    depth: i32,
    /// Lowest bracket depth anywhere in the line (its start included).
    min: i32,
    /// Columns of indentation (Python), bytes.
    indent: usize,
    /// The first byte of code that is not whitespace (0: none, the line is blank or a comment).
    first: u8,
    /// The last byte of code that is not whitespace, before the end of the line or a comment.
    last: u8,
}

#[derive(Clone, Copy, PartialEq)]
enum Family {
    Python,
    JavaScript,
    Go,
    Java,
    Kotlin,
    Rust,
}

fn family(language: Language) -> Option<Family> {
    Some(match language {
        Language::Python => Family::Python,
        Language::JavaScript | Language::TypeScript => Family::JavaScript,
        // JSX text (`<p>don't</p>`) is no code a lexer of JavaScript can follow.
        Language::Tsx => return None,
        Language::Go => Family::Go,
        Language::Java => Family::Java,
        Language::Kotlin => Family::Kotlin,
        Language::Rust => Family::Rust,
    })
}

/// The text to parse instead of `source`: the windows around `anchors` (byte offsets),
/// wrapped; None: parse the whole file.
pub(super) fn windows(language: Language, source: &str, anchors: &[usize]) -> Option<Windows> {
    let family = family(language)?;
    let bytes = source.as_bytes();
    if anchors.is_empty() {
        return None;
    }
    let lines = lex(family, bytes)?;
    let mut windows: Vec<(usize, usize, i32)> = Vec::new();
    let mut anchors = anchors.to_vec();
    anchors.sort_unstable();
    anchors.dedup();
    for &anchor in &anchors {
        if windows.last().is_some_and(|w| anchor < w.1) {
            continue;
        }
        let line = lines.partition_point(|l| l.start <= anchor) - 1;
        windows.push(window(family, bytes, &lines, line)?);
    }
    // Merge the windows that overlap or touch.
    let mut merged: Vec<(usize, usize, i32)> = Vec::with_capacity(windows.len());
    windows.sort_unstable_by_key(|w| w.0);
    for w in windows {
        match merged.last_mut() {
            Some(last) if w.0 <= last.1 => {
                last.1 = last.1.max(w.1);
                last.2 = last.2.min(w.2);
            }
            _ => merged.push(w),
        }
    }
    // Consecutive windows with the same wrapper share one.
    let wrappers: Vec<(&str, &str, usize)> = merged
        .iter()
        .map(|&(start, _, depth)| {
            let (opener, closer) = wrapper(family, depth);
            let indent = lines[lines.partition_point(|l| l.start <= start) - 1].indent;
            match family {
                Family::Python if indent > 0 => ("if 1:", "", indent),
                _ => (opener, closer, 0),
            }
        })
        .collect();
    let mut text = String::with_capacity(merged.iter().map(|w| w.1 - w.0 + 24).sum());
    let mut map = Vec::with_capacity(merged.len());
    for (i, &(start, end, _)) in merged.iter().enumerate() {
        let (opener, closer, _) = wrappers[i];
        if !opener.is_empty() && (i == 0 || wrappers[i - 1] != wrappers[i]) {
            text.push_str(opener);
            text.push('\n');
        }
        map.push((text.len(), start));
        text.push_str(source.get(start..end)?);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if !closer.is_empty() && wrappers.get(i + 1) != Some(&wrappers[i]) {
            text.push_str(closer);
            text.push('\n');
        }
    }
    Some(Windows { text, map })
}

/// The windows of a file, one after the other, each with the wrapper it needs.
pub(super) struct Windows {
    pub text: String,
    /// (offset in `text`, offset in the file) of each window.
    map: Vec<(usize, usize)>,
}

impl Windows {
    /// The file's offset of an offset in `text` (inside a window).
    fn offset(&self, at: usize) -> usize {
        let i = self.map.partition_point(|w| w.0 <= at).saturating_sub(1);
        let (text, file) = self.map[i];
        at + file - text
    }

    fn range(&self, range: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let start = self.offset(range.start);
        start..start + (range.end - range.start)
    }

    /// What the parser read in `text`, by the file's offsets.
    pub(super) fn to_file(&self, mut syntax: Syntax) -> Syntax {
        for range in syntax.comments.iter_mut().chain(syntax.strings.iter_mut()) {
            *range = self.range(range);
        }
        for call in &mut syntax.calls {
            call.key_span = self.range(&call.key_span);
            call.span = self.range(&call.span);
        }
        syntax
    }
}

/// What a window at bracket depth `depth` needs around it to be read as the grammar reads
/// it in its file (Python's, by indentation, is the caller's).
fn wrapper(family: Family, depth: i32) -> (&'static str, &'static str) {
    match family {
        Family::Python | Family::JavaScript => ("", ""),
        _ if depth == 0 => ("", ""),
        Family::Go => ("func _(){", "}"),
        Family::Kotlin => ("fun w(){", "}"),
        Family::Rust => ("fn w(){", "}"),
        Family::Java if depth == 1 => ("class W{", "}"),
        Family::Java => ("class W{void w(){", "}}"),
    }
}

/// The window around line `at`: (start, end, bracket depth), both ends line starts (or the
/// end of the file).
fn window(family: Family, bytes: &[u8], lines: &[Line], at: usize) -> Option<(usize, usize, i32)> {
    // Back to the latest line that starts in code at the lowest depth until the anchor's line.
    let mut first = at;
    let mut low = lines[at].min;
    loop {
        let line = &lines[first];
        low = low.min(line.min);
        let continued = first > 0 && continues(family, &lines[first - 1], line);
        if line.code && line.depth <= low && !continued {
            break;
        }
        if first == 0 || lines[at].start - lines[first - 1].start > MAX_WINDOW {
            return None;
        }
        first -= 1;
    }
    let depth = lines[first].depth;
    // On to the first line that starts in code back at that depth.
    let mut next = at + 1;
    // Up to the end of the file at most.
    while let Some(line) = lines.get(next) {
        if line.start - lines[first].start > MAX_WINDOW {
            return None;
        }
        if line.min < depth {
            // A closing bracket of the enclosing block on this line: the statement ended
            // before it, if it starts in code at the depth.
            if line.code && line.depth == depth {
                break;
            }
            return None;
        }
        let previous = &lines[next - 1];
        let inside = !line.code || line.depth > depth;
        // Python: the block of a header the window holds (`if …:`): lines indented more than
        // the window's first (else an indentation error either way), and blank lines.
        let body =
            family == Family::Python && (line.first == 0 || line.indent > lines[first].indent);
        if !inside && !continues(family, previous, line) && !body {
            break;
        }
        next += 1;
    }
    let end = lines.get(next).map_or(bytes.len(), |l| l.start);
    Some((lines[first].start, end, depth))
}

/// Whether `line` continues the statement of `previous`.
fn continues(family: Family, previous: &Line, line: &Line) -> bool {
    match family {
        Family::Python => previous.last == b'\\',
        // A method chain on the next line: `client\n    .getBooleanValue(…)`.
        _ => line.first == b'.' || (line.first == b'?' && family != Family::Go),
    }
}

/// The lines of `bytes` as code, strings and comments; None when the lexer ends inside a
/// string, a comment or a bracket, or closes more brackets than it opened: code it cannot
/// follow.
fn lex(family: Family, bytes: &[u8]) -> Option<Vec<Line>> {
    #[derive(Clone, Copy, PartialEq)]
    enum In {
        Code,
        /// A string closed by `quote` (three of them when `triple`); `lines`: may span lines;
        /// `template`: `${…}` substitutions (JavaScript templates, Kotlin strings);
        /// `escapes`: a backslash escapes.
        Str {
            quote: u8,
            triple: bool,
            lines: bool,
            template: bool,
            escapes: bool,
        },
        /// A Rust raw string closed by `"` and this many `#`.
        Raw(usize),
        Block(u32),
        LineComment,
    }
    let slash_comments = family != Family::Python;
    let nested_blocks = matches!(family, Family::Kotlin | Family::Rust);
    let mut lines: Vec<Line> = Vec::with_capacity(bytes.len() / 40 + 1);
    let mut state = In::Code;
    let mut depth: i32 = 0;
    // Template substitutions open: the depth each returns to its string at, and the string.
    let mut templates: Vec<(i32, In)> = Vec::new();
    let mut line = Line {
        start: 0,
        code: true,
        depth: 0,
        min: 0,
        indent: 0,
        first: 0,
        last: 0,
    };
    let mut at_indent = true;
    // The last significant byte of code, and whether it ended a word (for `/` in JavaScript).
    let mut previous: u8 = 0;
    let mut word_end = 0usize;
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        let b = bytes[i];
        if b == b'\n' {
            if state == In::LineComment {
                state = In::Code;
            }
            if let In::Str { lines: false, .. } = state {
                // An unterminated one-line string: code the lexer cannot follow.
                return None;
            }
            lines.push(line);
            line = Line {
                start: i + 1,
                code: state == In::Code,
                depth,
                min: depth,
                indent: 0,
                first: 0,
                last: 0,
            };
            at_indent = true;
            i += 1;
            continue;
        }
        if at_indent {
            if b == b' ' || b == b'\t' || b == b'\r' || b == 0x0c {
                if state == In::Code {
                    line.indent += 1;
                }
                i += 1;
                continue;
            }
            at_indent = false;
        }
        match state {
            In::Code if PLAIN[usize::from(b)] => {
                // A run of bytes that mean nothing to the lexer, at once.
                let mut end = i + 1;
                while end < n && PLAIN[usize::from(bytes[end])] {
                    end += 1;
                }
                if line.first == 0 {
                    line.first = b;
                }
                let last = bytes[end - 1];
                line.last = last;
                previous = last;
                if last.is_ascii_alphanumeric() || last == b'_' || last == b'$' {
                    word_end = end;
                }
                i = end;
            }
            In::Code => {
                let next = bytes.get(i + 1).copied().unwrap_or(0);
                if (family == Family::Python && b == b'#')
                    || (slash_comments && b == b'/' && next == b'/')
                {
                    state = In::LineComment;
                    i += 1;
                    continue;
                }
                if slash_comments && b == b'/' && next == b'*' {
                    state = In::Block(1);
                    i += 2;
                    continue;
                }
                if b == b' ' || b == b'\t' || b == b'\r' {
                    i += 1;
                    continue;
                }
                if line.first == 0 {
                    line.first = b;
                }
                line.last = b;
                match b {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => {
                        depth -= 1;
                        if depth < 0 {
                            return None;
                        }
                        line.min = line.min.min(depth);
                        if b == b'}'
                            && let Some(&(open, string)) = templates.last()
                            && open == depth
                        {
                            templates.pop();
                            state = string;
                        }
                    }
                    b'"' | b'\'' | b'`' => {
                        let triple = (family == Family::Python
                            || (b == b'"' && matches!(family, Family::Java | Family::Kotlin)))
                            && b != b'`'
                            && bytes.get(i + 1) == Some(&b)
                            && bytes.get(i + 2) == Some(&b);
                        let string = match (family, b) {
                            (Family::Rust, b'\'') => {
                                // A char literal, or a lifetime (`'a`).
                                match char_literal(bytes, i) {
                                    Some(end) => {
                                        i = end;
                                        previous = b'\'';
                                        continue;
                                    }
                                    None => {
                                        i += 1;
                                        continue;
                                    }
                                }
                            }
                            (Family::Rust, b'"') => {
                                // r"…", r#"…"#, br"…": raw.
                                let hashes = raw_hashes(bytes, i);
                                if let Some(hashes) = hashes {
                                    state = In::Raw(hashes);
                                    i += 1;
                                    continue;
                                }
                                In::Str {
                                    quote: b,
                                    triple: false,
                                    lines: true,
                                    template: false,
                                    escapes: true,
                                }
                            }
                            (Family::Go, b'`') => In::Str {
                                quote: b,
                                triple: false,
                                lines: true,
                                template: false,
                                escapes: false,
                            },
                            (Family::JavaScript, b'`') => In::Str {
                                quote: b,
                                triple: false,
                                lines: true,
                                template: true,
                                escapes: true,
                            },
                            (_, b'`') => {
                                i += 1;
                                continue; // Kotlin's `backticked names`, Python: nothing
                            }
                            (Family::Kotlin, b'"') => In::Str {
                                quote: b,
                                triple,
                                lines: triple,
                                template: true,
                                escapes: !triple,
                            },
                            _ => In::Str {
                                quote: b,
                                triple,
                                lines: triple,
                                template: false,
                                escapes: true,
                            },
                        };
                        state = string;
                        i += if triple { 3 } else { 1 };
                        previous = b;
                        continue;
                    }
                    b'/' if family == Family::JavaScript
                        && starts_regex(bytes, previous, word_end, i) =>
                    {
                        i = regex_end(bytes, i)?;
                        previous = b'/';
                        continue;
                    }
                    _ => {}
                }
                previous = b;
                if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' {
                    word_end = i + 1;
                }
                i += 1;
            }
            In::Str {
                quote,
                triple,
                template,
                escapes,
                ..
            } => {
                if !STRING_STOPS[usize::from(b)] {
                    i += 1;
                    while i < n && !STRING_STOPS[usize::from(bytes[i])] {
                        i += 1;
                    }
                    continue;
                }
                if escapes && b == b'\\' {
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1; // the newline is handled above
                    } else {
                        i += 2;
                    }
                    continue;
                }
                if template && b == b'$' && bytes.get(i + 1) == Some(&b'{') {
                    templates.push((depth, state));
                    depth += 1;
                    state = In::Code;
                    i += 2;
                    continue;
                }
                if b == quote {
                    if !triple {
                        state = In::Code;
                        i += 1;
                        continue;
                    }
                    if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                        // Kotlin and Python: `""""` ends with the last three quotes.
                        let mut end = i + 3;
                        while family != Family::Java && bytes.get(end) == Some(&quote) {
                            end += 1;
                        }
                        state = In::Code;
                        i = end;
                        continue;
                    }
                }
                i += 1;
            }
            In::Raw(hashes) => {
                if b == b'"'
                    && bytes.len() >= i + 1 + hashes
                    && bytes[i + 1..i + 1 + hashes].iter().all(|&h| h == b'#')
                {
                    state = In::Code;
                    i += 1 + hashes;
                    continue;
                }
                i += 1;
            }
            In::Block(_) if !matches!(b, b'*' | b'/') => {
                i = memchr::memchr3(b'*', b'/', b'\n', &bytes[i..]).map_or(n, |at| i + at);
            }
            In::Block(level) => {
                let next = bytes.get(i + 1).copied().unwrap_or(0);
                if b == b'*' && next == b'/' {
                    state = if level > 1 {
                        In::Block(level - 1)
                    } else {
                        In::Code
                    };
                    i += 2;
                    continue;
                }
                if nested_blocks && b == b'/' && next == b'*' {
                    state = In::Block(level + 1);
                    i += 2;
                    continue;
                }
                i += 1;
            }
            In::LineComment => i = memchr::memchr(b'\n', &bytes[i..]).map_or(n, |at| i + at),
        }
    }
    lines.push(line);
    (state == In::Code || state == In::LineComment)
        .then_some(())
        .filter(|_| depth == 0 && templates.is_empty())?;
    Some(lines)
}

/// A table of the 256 bytes: `set` for those in `bytes`, the others not.
const fn byte_table(bytes: &[u8], set: bool) -> [bool; 256] {
    let mut table = [!set; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = set;
        i += 1;
    }
    table
}

/// The bytes code can hold that mean nothing to the lexer: neither whitespace (the
/// indentation), a quote, a bracket, a slash nor `#`.
static PLAIN: [bool; 256] = byte_table(b" \t\r\n\x0c\"'`()[]{}/#", false);

/// The bytes that can end or escape a string, or start a substitution in it.
static STRING_STOPS: [bool; 256] = byte_table(b"\"'`\\$\n", true);

/// Rust: the end of the char literal starting at `i` (`'a'`, `'\n'`, `'é'`), or None for a
/// lifetime or a label.
fn char_literal(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = &bytes[i + 1..];
    if rest.first() == Some(&b'\\') {
        let close = memchr::memchr(b'\'', &rest[2.min(rest.len())..])?;
        return Some(i + 1 + 2 + close + 1);
    }
    let width = match *rest.first()? {
        b if b < 0x80 => 1,
        b if b >= 0xf0 => 4,
        b if b >= 0xe0 => 3,
        _ => 2,
    };
    (rest.get(width) == Some(&b'\'')).then_some(i + 1 + width + 1)
}

/// Rust: whether the `"` at `i` opens a raw string (`r"`, `r#"`, `br##"`), and with how many
/// `#`.
fn raw_hashes(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    while j > 0 && bytes[j - 1] == b'#' {
        j -= 1;
    }
    let hashes = i - j;
    if j == 0 || bytes[j - 1] != b'r' {
        return None;
    }
    let mut k = j - 1;
    if k > 0 && (bytes[k - 1] == b'b' || bytes[k - 1] == b'c') {
        k -= 1;
    }
    let joined = k > 0 && (bytes[k - 1].is_ascii_alphanumeric() || bytes[k - 1] == b'_');
    (!joined).then_some(hashes)
}

/// JavaScript: whether the `/` at `i` starts a regular expression rather than a division,
/// by the code before it.
fn starts_regex(bytes: &[u8], previous: u8, word_end: usize, i: usize) -> bool {
    let next = bytes.get(i + 1).copied().unwrap_or(0);
    if next == b'/' || next == b'*' {
        return false;
    }
    if previous == 0 {
        return true;
    }
    if previous.is_ascii_alphanumeric() || previous == b'_' || previous == b'$' {
        // After a keyword that an expression follows.
        let word_start = bytes[..word_end]
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$'))
            .map_or(0, |p| p + 1);
        return matches!(
            &bytes[word_start..word_end],
            b"return"
                | b"typeof"
                | b"case"
                | b"do"
                | b"else"
                | b"in"
                | b"of"
                | b"new"
                | b"delete"
                | b"void"
                | b"throw"
                | b"instanceof"
                | b"yield"
                | b"await"
        );
    }
    !matches!(previous, b')' | b']' | b'}' | b'"' | b'\'' | b'`' | b'.')
}

/// JavaScript: the end of the regular expression starting at `i`; None when it runs to the
/// end of its line.
fn regex_end(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut class = false;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 1,
            b'\n' => return None,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => {
                j += 1;
                while j < bytes.len() && bytes[j].is_ascii_alphabetic() {
                    j += 1;
                }
                return Some(j);
            }
            _ => {}
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::Path;

    use super::super::classify::{Read, file_read};
    use super::super::matcher::Matcher;
    use super::super::{Target, syntax};
    use super::*;
    use crate::model::config::RefsConfig;

    fn targets(keys: &[String]) -> Vec<Target> {
        let mut targets: Vec<Target> = keys
            .iter()
            .map(|k| Target {
                key: k.clone(),
                archived: false,
            })
            .collect();
        targets.sort_by(|a, b| a.key.cmp(&b.key));
        targets.dedup_by(|a, b| a.key == b.key);
        targets
    }

    /// Classifies every file both ways and asserts they agree; how many files were read
    /// through windows.
    fn agree(targets: &[Target], config: &RefsConfig, files: &[(String, String)]) -> usize {
        let matcher = Matcher::new(targets, config, true).unwrap();
        let mut windowed = 0;
        for (path, text) in files {
            let bytes = text.as_bytes();
            assert_eq!(matcher.find(bytes), matcher.find_in_one(bytes), "{path}");
            let whole = file_read(&matcher, targets, path, bytes, true, Read::Whole);
            let windowed_refs = file_read(&matcher, targets, path, bytes, true, Read::Windows);
            assert_eq!(windowed_refs, whole, "{path}:\n{text}");
            let Some(language) = Language::of_path(path) else {
                continue;
            };
            let found = matcher.find(bytes);
            let mut anchors: Vec<usize> = found.hits.iter().map(|h| h.start).collect();
            anchors.extend(&found.methods);
            if let Some(windows) = windows(language, text, &anchors)
                && !syntax::read(language, &windows.text, &matcher.accessors).has_errors
            {
                windowed += 1;
            }
        }
        windowed
    }

    fn read_tree(root: &Path, files: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                read_tree(&path, files);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                files.push((path.display().to_string(), text));
            }
        }
    }

    #[test]
    fn windows_read_the_fixtures_as_the_whole_files_do() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/refs");
        let mut flags = Vec::new();
        read_tree(&root.join("flags"), &mut flags);
        let keys: Vec<String> = flags
            .iter()
            .filter_map(|(path, _)| {
                let name = path.rsplit('/').next()?;
                name.strip_suffix(".toml").map(str::to_string)
            })
            .collect();
        let mut files = Vec::new();
        read_tree(&root.join("services"), &mut files);
        let mut config = RefsConfig::default();
        agree(&targets(&keys), &config, &files);
        config.patterns = vec![r"flag\((?P<key>[a-z0-9-]+)\)".into()];
        config
            .aliases
            .insert("new-ranker".into(), vec!["RANKER_NEXT".into()]);
        agree(&targets(&keys), &config, &files);
    }

    /// Statements of every form around SDK calls, in every language with windows.
    fn generated(n: usize) -> Vec<(String, String)> {
        let key = |i: usize| format!("model-{}-v{}", ["ranker", "scorer"][i % 2], i % 40);
        let mut files = Vec::new();
        for f in 0..n {
            let (k, k2) = (key(f), key(f + 7));
            let mut py = String::from("import os\n\n# the flags of `model-ranker-v1`\n");
            let _ = write!(
                py,
                r#"
def handle_{f}(client, ctx):
    """Reads "{k}".

    And more "{k2}".
    """
    a = client.get_boolean_value("{k}", False, ctx)
    if client.get_string_value("{k2}", "x"):
        b = f"{{a}} {k}"
        c = r'\d' + '''
{k}
'''
    elif a:  # "{k}" in a comment
        pass
    d = client.get_integer_value(
        "{k2}",
        3,
    )
    e = x \
        + client.get_float_value("{k}", 1.5)
    g = client.get_boolean_value("model-rankr-v{f}", True)
    return [a, b, "{k}"]

@decorate("{k}")
class C{f}:
    field = client.get_object_value("{k2}", {{}})
    def m(self):
        return self.field.get("{k}")
"#
            );
            files.push((format!("gen/f{f}.py"), py));
            let mut ts = String::new();
            let _ = write!(
                ts,
                r#"// reads "{k}"
import {{ client }} from "./client";
/* block "{k2}"
   still "{k}" */
export async function handle{f}(ctx) {{
  const a = await client.getBooleanValue('{k}', false, ctx);
  const re = /["'`]/g, half = a / 2 / 3;
  const t = `value ${{a ? "{k}" : `${{"{k2}"}}`}} {k}`;
  const chained = client
    .getStringValue("{k2}", "x");
  const o = {{
    enabled: await client.getNumberValue("{k}", 1),
    name: "{k2}",
  }};
  if (await client.getBooleanValue("model-rankr-{f}", true)) {{ return "{k}"; }}
  return [a, re, half, t, chained, o];
}}
export class Service{f} {{
  private readonly flag = client.getBooleanValue("{k}", false);
  method(): string {{ return "{k2}"; }}
}}
"#
            );
            files.push((format!("gen/f{f}.ts"), ts.clone()));
            files.push((
                format!("gen/f{f}.js"),
                ts.replace("private readonly ", "")
                    .replace("(): string", "()"),
            ));
            let go = format!(
                r#"package svc

// Handle reads "{k}".
var global, _ = client.BooleanValue(context.Background(), "{k2}", false, ec)

func Handle{f}(ctx context.Context) bool {{
	a, _ := client.BooleanValue(ctx, "{k}", false, evalCtx)
	s := client.String(ctx, "model-rankr-{f}", "d", evalCtx)
	raw := `multi
"{k}" line`
	/* "{k2}" */
	if v, _ := client.StringValue(ctx, "{k2}", "x", evalCtx); v != "" {{
		return a
	}}
	m := map[string]bool{{
		"{k}": true,
	}}
	g, _ := NewRanker.Value(ctx, evalCtx)
	_ = []any{{s, raw, m, g, 'x', '"'}}
	return false
}}
"#
            );
            files.push((format!("gen/f{f}.go"), go));
            let java = format!(
                r#"package svc;

/** Reads "{k}". */
public class Handler{f} {{
    private final boolean field = client.getBooleanValue("{k2}", false);
    private static final String TEXT = """
        "{k}" in a text block
        """;

    boolean handle(Client client) {{
        // "{k2}"
        boolean a = client.getBooleanValue("{k}", false);
        String b = client
            .getStringValue("{k2}", "x");
        char c = '"';
        return a && client.getBooleanValue("model-rankr-{f}", true);
    }}
}}
"#
            );
            files.push((format!("gen/F{f}.java"), java));
            let kotlin = format!(
                r#"package svc

// "{k}"
val top = client.getBooleanValue("{k2}", false)

class Handler{f}(private val client: Client) {{
    private val field = client.getBooleanValue("{k}", false)
    fun handle(): Boolean {{
        /* "{k2}" /* nested "{k}" */ */
        val s = "${{client.getStringValue("{k}", "x")}} and {k2}"
        val raw = """
            "{k}" $s
        """
        return client.getBooleanValue("{k2}", true) && s.isNotEmpty() && raw.isNotEmpty()
    }}
}}
"#
            );
            files.push((format!("gen/F{f}.kt"), kotlin));
            let rust = format!(
                r##"//! "{k}"
fn handle_{f}<'a>(client: &'a Client) -> bool {{
    let a = client.get_bool_value("{k}", None, None);
    let r = r#"raw "{k2}" "#;
    let c = '"';
    /* "{k2}" /* nested */ */
    let s = "multi
        line {k}";
    a && client.get_bool_value("{k2}", None, None).is_ok() && c == '\'' && !r.is_empty() && !s.is_empty()
}}

const KEY: &str = "{k}";
"##
            );
            files.push((format!("gen/f{f}.rs"), rust));
        }
        files
    }

    #[test]
    fn windows_read_a_generated_tree_as_the_whole_files_do() {
        let files = generated(12);
        let keys: Vec<String> = (0..40)
            .flat_map(|i| {
                [
                    format!("model-ranker-v{i}"),
                    format!("model-scorer-v{i}"),
                    "new-ranker".to_string(),
                ]
            })
            .collect();
        let targets = targets(&keys);
        // Many of these statements cannot be read through windows (an object literal's
        // field, a decorator, a class member in TypeScript): the whole file is read then.
        let windowed = agree(&targets, &RefsConfig::default(), &files);
        assert!(windowed * 4 >= files.len(), "{windowed} of {}", files.len());
        // Plain statements in functions, as most code has them, always are.
        let plain: Vec<(String, String)> = (0..12)
            .map(|f| {
                let k = format!("model-ranker-v{}", f % 40);
                let lines = |line: &dyn Fn(usize) -> String| (0..30).map(line).collect::<String>();
                match f % 3 {
                    0 => (
                        format!("p/f{f}.py"),
                        format!(
                            "def handle(client, ctx):\n{}    return True\n",
                            lines(&|l| if l % 9 == 4 {
                                format!("    e{l} = client.get_boolean_value(\"{k}\", False, ctx)\n")
                            } else {
                                format!("    f{l} = normalise(batch[\"f{l}\"], scale={l}.0)  # step\n")
                            })
                        ),
                    ),
                    1 => (
                        format!("p/f{f}.ts"),
                        format!(
                            "export async function handle(client, ctx) {{\n{}  return true;\n}}\n",
                            lines(&|l| if l % 9 == 4 {
                                format!("  const e{l} = await client.getBooleanValue('{k}', false, ctx);\n")
                            } else {
                                format!("  const s{l} = weights.get(\"w{l}\") * c[{l}]; // step\n")
                            })
                        ),
                    ),
                    _ => (
                        format!("p/f{f}.go"),
                        format!(
                            "package svc\n\nfunc Handle(ctx context.Context) bool {{\n{}\treturn true\n}}\n",
                            lines(&|l| if l % 9 == 4 {
                                format!("\te{l}, _ := client.BooleanValue(ctx, \"{k}\", false, evalCtx)\n")
                            } else {
                                format!("\tr{l} := router.Pick(\"r{l}\", request.Shard+{l}) // step\n")
                            })
                        ),
                    ),
                }
            })
            .collect();
        assert_eq!(agree(&targets, &RefsConfig::default(), &plain), plain.len());
    }

    /// How many files of a tree (`FLAGCTL_WINDOWS_TREE`, with a `keys.txt`) windows read.
    #[test]
    #[ignore]
    #[allow(clippy::disallowed_macros)] // it says how many, when asked for
    fn windows_of_a_tree() {
        let Some(root) = std::env::var_os("FLAGCTL_WINDOWS_TREE") else {
            return;
        };
        let root = Path::new(&root);
        let keys: Vec<String> = std::fs::read_to_string(root.join("keys.txt"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let mut files = Vec::new();
        read_tree(&root.join("services"), &mut files);
        let targets = targets(&keys);
        let matcher = Matcher::new(&targets, &RefsConfig::default(), true).unwrap();
        let with_hits: Vec<(String, String)> = files
            .into_iter()
            .filter(|(_, text)| !matcher.find(text.as_bytes()).hits.is_empty())
            .collect();
        let windowed = agree(&targets, &RefsConfig::default(), &with_hits);
        eprintln!(
            "{windowed} of {} files with hits read through windows",
            with_hits.len()
        );
    }

    #[test]
    fn windows_keep_offsets_and_wrap_statements() {
        let source = "package svc\n\nfunc F() {\n\tx := 1\n\ta, _ := c.BooleanValue(ctx, \"k\", false, e)\n\treturn\n}\n";
        let at = source.find("\"k\"").unwrap();
        let windows = windows(Language::Go, source, &[at]).unwrap();
        assert_eq!(
            windows.text,
            "func _(){\n\ta, _ := c.BooleanValue(ctx, \"k\", false, e)\n}\n"
        );
        let accessors = std::collections::HashMap::new();
        let syntax = windows.to_file(syntax::read(Language::Go, &windows.text, &accessors));
        assert_eq!(syntax.strings, vec![at..at + 3]);
        assert_eq!(syntax.calls[0].key_span, at..at + 3);
    }
}
