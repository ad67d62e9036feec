//! A file's text with the means to turn byte offsets into line and column, and text read
//! from a repository as a reader is shown it.

use std::ops::Range;

/// A text file of the repository, by its path relative to the repository root (with `/`).
/// Lines are found when a position is asked for: a repository holds many files, and
/// positions are asked only of those with findings.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = memchr::memchr_iter(b'\n', before).count();
        let start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The byte range of a 1-based line, without its line break.
    pub fn line_span(&self, line: usize) -> Range<usize> {
        let start = match line {
            0 | 1 => 0,
            _ => memchr::memchr_iter(b'\n', self.text.as_bytes())
                .nth(line - 2)
                .map_or(0, |i| i + 1),
        };
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        start..end
    }
}

/// Whether `c` reaches a reader as something other than what it looks like.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every hidden character escaped (`\n`, `\u{202e}`): a name or message read
/// from a repository, shown on a line of its own without forging another.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let file = SourceFile::new("a.toml", "ab\ncdé\nf");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(7), (2, 4));
        assert_eq!(file.line_col(8), (3, 1));
        assert_eq!(file.line_span(2), 3..7);
        assert_eq!(file.line_span(1), 0..2);
        assert_eq!(file.line_span(0), 0..2);
        assert_eq!(file.line_span(3), 8..9);
        // Past the last line: the first, as an index of line starts had it.
        assert_eq!(file.line_span(9), 0..2);
        assert_eq!(file.line_col(99), (3, 2));
        assert_eq!(SourceFile::new("e", "").line_col(0), (1, 1));
    }
}
