//! Edits of a source text that keep what they do not touch byte for byte, and follow the
//! constants cleanup wrote through every edit, so that the next round of simplification
//! knows where they are.

use std::ops::Range;

use serde_json::Value;

/// A constant cleanup wrote: where it is and what it is worth. Only code that holds one is
/// simplified, so code the flag never reached is left as it was.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Constant {
    pub range: Range<usize>,
    pub value: Value,
}

/// A piece of the text that replaces a range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    /// A literal cleanup writes, with its value.
    Constant(String, Value),
    /// A range of the text before the edit, copied with the constants in it.
    Copy(Range<usize>),
}

/// Replaces `range` with `pieces`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Edit {
    pub range: Range<usize>,
    pub pieces: Vec<Piece>,
    /// The statement this edit removes and the block it was in, so that a block left with
    /// nothing gets what the language needs there (Python's `pass`).
    pub removes: Option<(Range<usize>, Range<usize>)>,
}

impl Edit {
    pub fn new(range: Range<usize>, pieces: Vec<Piece>) -> Edit {
        Edit {
            range,
            pieces,
            removes: None,
        }
    }
}

/// Whether the ranges of `edits` and `more` are disjoint, touching ends allowed when
/// neither is empty.
pub(crate) fn disjoint(edits: &[Edit], more: &[Edit]) -> bool {
    let overlaps = |a: &Range<usize>, b: &Range<usize>| {
        a.start < b.end && b.start < a.end || (a.start == b.start && (a.is_empty() || b.is_empty()))
    };
    more.iter().enumerate().all(|(i, m)| {
        edits.iter().all(|e| !overlaps(&e.range, &m.range))
            && more[i + 1..].iter().all(|o| !overlaps(&o.range, &m.range))
    })
}

/// What [`apply`] made: the new text, where the constants are in it (sorted by start), and
/// each edit's range in the old text with the length of what replaced it (by start).
pub(crate) struct Applied {
    pub text: String,
    pub constants: Vec<Constant>,
    pub changed: Vec<(Range<usize>, usize)>,
}

/// Applies `edits` (disjoint) to `text`.
pub(crate) fn apply(text: &str, constants: &[Constant], mut edits: Vec<Edit>) -> Applied {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = Output {
        text: String::with_capacity(text.len()),
        constants: Vec::new(),
        source: text,
        old: constants,
    };
    let mut at = 0;
    let mut changed = Vec::with_capacity(edits.len());
    for edit in edits {
        out.copy(at..edit.range.start);
        let inserted_at = out.text.len();
        for piece in edit.pieces {
            match piece {
                Piece::Text(t) => out.text.push_str(&t),
                Piece::Constant(t, value) => {
                    let start = out.text.len();
                    out.text.push_str(&t);
                    out.constants.push(Constant {
                        range: start..out.text.len(),
                        value,
                    });
                }
                Piece::Copy(range) => out.copy(range),
            }
        }
        changed.push((edit.range.clone(), out.text.len() - inserted_at));
        at = at.max(edit.range.end);
    }
    out.copy(at..text.len());
    let mut constants = out.constants;
    constants.sort_by_key(|c| (c.range.start, c.range.end));
    constants.dedup_by(|a, b| a.range == b.range);
    Applied {
        text: out.text,
        constants,
        changed,
    }
}

struct Output<'a> {
    text: String,
    constants: Vec<Constant>,
    source: &'a str,
    old: &'a [Constant],
}

impl Output<'_> {
    /// Copies `range` of the source, with the constants wholly inside it.
    fn copy(&mut self, range: Range<usize>) {
        if range.start >= range.end {
            return;
        }
        let Some(slice) = self.source.get(range.clone()) else {
            return;
        };
        let shift = self.text.len() as isize - range.start as isize;
        let first = self.old.partition_point(|c| c.range.start < range.start);
        for constant in &self.old[first..] {
            if constant.range.start >= range.end {
                break;
            }
            if constant.range.end <= range.end {
                self.constants.push(Constant {
                    range: (constant.range.start as isize + shift) as usize
                        ..(constant.range.end as isize + shift) as usize,
                    value: constant.value.clone(),
                });
            }
        }
        self.text.push_str(slice);
    }
}

/// Whether a constant lies wholly inside `range` (`constants` sorted by start).
pub(crate) fn holds_constant(constants: &[Constant], range: &Range<usize>) -> bool {
    let first = constants.partition_point(|c| c.range.start < range.start);
    constants[first..]
        .iter()
        .take_while(|c| c.range.start < range.end)
        .any(|c| c.range.end <= range.end)
}

/// The constant written exactly at `range`.
pub(crate) fn constant_at<'c>(
    constants: &'c [Constant],
    range: &Range<usize>,
) -> Option<&'c Constant> {
    let first = constants.partition_point(|c| c.range.start < range.start);
    constants[first..]
        .iter()
        .take_while(|c| c.range.start == range.start)
        .find(|c| c.range.end == range.end)
}

/// The start of the line holding `offset`.
pub(crate) fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The end of the line holding `offset`, after its line break (or the end of the text).
pub(crate) fn next_line_start(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

/// The white space that starts the line holding `offset`.
pub(crate) fn indentation(text: &str, offset: usize) -> &str {
    let start = line_start(text, offset);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Whether only spaces and tabs stand between `range` and the text around it on its lines.
pub(crate) fn alone_on_its_lines(text: &str, range: &Range<usize>) -> bool {
    let before = &text[line_start(text, range.start)..range.start];
    let after_end = next_line_start(text, range.end);
    let after = &text[range.end..after_end];
    before.trim_matches([' ', '\t']).is_empty() && after.trim().is_empty()
}

/// The longest common prefix of two indentations.
pub(crate) fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let len = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    &a[..len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constants_follow_the_edits() {
        let text = "a = X and y\nb = X\n";
        let constants = vec![
            Constant {
                range: 4..5,
                value: json!(true),
            },
            Constant {
                range: 16..17,
                value: json!(false),
            },
        ];
        let edits = vec![
            // `X and y` → `y`
            Edit::new(4..11, vec![Piece::Copy(10..11)]),
            // `b` → `bb`, copying the constant after it along
            Edit::new(
                12..17,
                vec![Piece::Text("bb = ".into()), Piece::Copy(16..17)],
            ),
        ];
        let applied = apply(text, &constants, edits);
        let (out, moved) = (applied.text, applied.constants);
        assert_eq!(out, "a = y\nbb = X\n");
        assert_eq!(moved.len(), 1, "the first constant was dropped");
        assert_eq!(&out[moved[0].range.clone()], "X");
        assert_eq!(moved[0].value, json!(false));
    }

    #[test]
    fn written_constants_are_recorded() {
        let applied = apply(
            "if f():\n",
            &[],
            vec![Edit::new(
                3..6,
                vec![Piece::Constant("True".into(), json!(true))],
            )],
        );
        assert_eq!(applied.changed, vec![(3..6, 4)]);
        let (out, constants) = (applied.text, applied.constants);
        assert_eq!(out, "if True:\n");
        assert_eq!(constants[0].range, 3..7);
        assert!(holds_constant(&constants, &(0..9)));
        assert!(!holds_constant(&constants, &(4..9)));
        assert!(constant_at(&constants, &(3..7)).is_some());
    }

    #[test]
    fn disjointness() {
        let a = [Edit::new(0..4, vec![])];
        assert!(disjoint(&a, &[Edit::new(4..6, vec![])]));
        assert!(!disjoint(&a, &[Edit::new(3..6, vec![])]));
        assert!(!disjoint(
            &[],
            &[Edit::new(3..6, vec![]), Edit::new(5..7, vec![])]
        ));
    }

    #[test]
    fn lines() {
        let text = "a\n  b c\r\nd";
        assert_eq!(line_start(text, 5), 2);
        assert_eq!(next_line_start(text, 5), 9);
        assert_eq!(indentation(text, 5), "  ");
        assert!(alone_on_its_lines(text, &(4..7)));
        assert!(!alone_on_its_lines(text, &(4..5)));
        assert_eq!(common_prefix("\t\t", "\t  "), "\t");
    }
}
