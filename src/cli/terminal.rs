//! Everything flagctl prints goes through here: one sanitiser between the renderers and
//! the terminal (or the CI log).
//!
//! Text from a repository is hostile: a flag's owner, a file name or a commit subject can
//! carry ESC sequences that rewrite the terminal or set the clipboard (OSC 52), carriage
//! returns that hide what came before, or line breaks followed by `::error` or
//! `::add-mask` that a CI runner obeys. [`Safe`] shows every control character (C0 but
//! newline and tab, DEL, C1, the Unicode line and paragraph separators, and bidi
//! overrides) as a visible escape such as `\u{1b}`, lets through only the colour
//! sequences flagctl's own styling writes (and only when colour is on), and breaks a
//! workflow command at the start of a line of text that is not one flagctl writes on
//! purpose (`--format github`).

use std::io::Write;

use flagctl::output::is_hidden;

/// A writer that shows control characters as visible escapes.
pub struct Safe<W: Write> {
    inner: W,
    /// Colour is on: `ESC [ … m` (SGR) sequences pass.
    color: bool,
    /// Lines may not start with `::` (everything but `--format github` on stdout).
    guard_commands: bool,
    /// Bytes of an incomplete character or escape sequence, held for the next write.
    pending: Vec<u8>,
    at_line_start: bool,
    /// What is written next, kept from write to write: a fresh buffer for each large
    /// write would have the system zero its pages again every time.
    out: Vec<u8>,
}

/// The longest escape sequence held back while waiting for its end.
const MAX_SEQUENCE: usize = 32;

impl<W: Write> Safe<W> {
    pub fn new(inner: W, color: bool, guard_commands: bool) -> Safe<W> {
        Safe {
            inner,
            color,
            guard_commands,
            pending: Vec::new(),
            at_line_start: true,
            out: Vec::new(),
        }
    }

    /// Sanitises `bytes` (after what is pending); with `last`, nothing is held back.
    fn process(&mut self, bytes: &[u8], last: bool) -> std::io::Result<()> {
        let mut held = std::mem::take(&mut self.pending);
        let data = if held.is_empty() {
            bytes
        } else {
            held.extend_from_slice(bytes);
            &held
        };
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        out.reserve(data.len() + 16);
        let mut i = 0;
        while i < data.len() {
            let byte = data[i];
            // Printable ASCII, most of any output, passes as it is (but what may start a
            // workflow command at the start of a line), and so do line breaks.
            if is_printable(byte) && !(self.at_line_start && matches!(byte, b':' | b' ')) {
                let run = printable_run(&data[i..]);
                out.extend_from_slice(&data[i..i + run]);
                i += run;
                self.at_line_start = false;
                continue;
            }
            if byte == b'\n' {
                out.push(b'\n');
                self.at_line_start = true;
                i += 1;
                continue;
            }
            if byte == 0x1b {
                match sgr_length(&data[i..]) {
                    Some(len) if self.color => {
                        out.extend_from_slice(&data[i..i + len]);
                        i += len;
                        continue;
                    }
                    None if !last
                        && data.len() - i < MAX_SEQUENCE
                        && incomplete_sgr(&data[i..]) =>
                    {
                        self.pending = data[i..].to_vec();
                        break;
                    }
                    _ => {
                        out.extend_from_slice(b"\\u{1b}");
                        self.at_line_start = false;
                        i += 1;
                        continue;
                    }
                }
            }
            if byte == b'\r' {
                match data.get(i + 1) {
                    Some(b'\n') => {
                        i += 1; // CRLF prints as a line break
                        continue;
                    }
                    None if !last => {
                        self.pending = vec![b'\r'];
                        break;
                    }
                    _ => {
                        out.extend_from_slice(b"\\r");
                        self.at_line_start = false;
                        i += 1;
                        continue;
                    }
                }
            }
            let width = utf8_width(byte);
            if i + width > data.len() {
                if last {
                    out.extend_from_slice("\u{fffd}".as_bytes());
                    break;
                }
                self.pending = data[i..].to_vec();
                break;
            }
            let text = String::from_utf8_lossy(&data[i..i + width]);
            for c in text.chars() {
                self.push(c, &mut out);
            }
            i += width;
        }
        let written = self.inner.write_all(&out);
        self.out = out;
        written
    }

    fn push(&mut self, c: char, out: &mut Vec<u8>) {
        if c == '\n' {
            out.push(b'\n');
            self.at_line_start = true;
            return;
        }
        if self.at_line_start && self.guard_commands && c == ':' {
            // `::command` at the start of a line is a CI workflow command; `\u{3a}:` is not.
            out.extend_from_slice(b"\\u{3a}");
            self.at_line_start = false;
            return;
        }
        self.at_line_start = self.at_line_start && (c == ' ' || c == '\t');
        if c != '\t' && is_hidden(c) {
            out.extend_from_slice(c.escape_unicode().to_string().as_bytes());
        } else {
            let mut buffer = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
        }
    }
}

impl<W: Write> Write for Safe<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.process(bytes, false)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.process(&[], true)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for Safe<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn is_printable(byte: u8) -> bool {
    (0x20..0x7f).contains(&byte)
}

/// How many bytes at the start of `data` are printable ASCII: 32 at a time while they all
/// are (a loop without early exit, which the compiler vectorises), then one by one.
fn printable_run(data: &[u8]) -> usize {
    let mut run = 0;
    for block in data.chunks_exact(32) {
        if !block.iter().fold(true, |all, &b| all & is_printable(b)) {
            break;
        }
        run += 32;
    }
    run + data[run..]
        .iter()
        .position(|&b| !is_printable(b))
        .unwrap_or(data.len() - run)
}

/// The length of a UTF-8 sequence from its first byte (1 for a stray byte).
fn utf8_width(first: u8) -> usize {
    match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// `ESC [ digits;… m`: a colour or style, the only sequence flagctl writes.
fn sgr_length(data: &[u8]) -> Option<usize> {
    if data.get(1) != Some(&b'[') {
        return None;
    }
    for (index, &byte) in data.iter().enumerate().skip(2).take(MAX_SEQUENCE) {
        match byte {
            b'0'..=b'9' | b';' => continue,
            b'm' => return Some(index + 1),
            _ => return None,
        }
    }
    None
}

/// The start of what may still become an SGR sequence.
fn incomplete_sgr(data: &[u8]) -> bool {
    data.len() == 1
        || (data[1] == b'[' && data[2..].iter().all(|b| b.is_ascii_digit() || *b == b';'))
}

/// Standard output through [`Safe`]; `guard_commands` off only for `--format github`.
pub fn stdout(
    color: bool,
    guard_commands: bool,
) -> Safe<std::io::BufWriter<std::io::StdoutLock<'static>>> {
    Safe::new(
        std::io::BufWriter::new(std::io::stdout().lock()),
        color,
        guard_commands,
    )
}

/// Standard error through [`Safe`]: nothing flagctl writes there is a workflow command.
pub fn stderr(color: bool) -> Safe<std::io::StderrLock<'static>> {
    Safe::new(std::io::stderr().lock(), color, true)
}

/// `tell!(…)`: a line on standard error, through [`Safe`].
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::cli::terminal::stderr(false), $($arg)*);
    }};
}

pub(crate) use tell;

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(input: &[&[u8]], color: bool, guard: bool) -> String {
        let mut safe = Safe::new(Vec::new(), color, guard);
        for chunk in input {
            safe.write_all(chunk).unwrap();
        }
        safe.flush().unwrap();
        String::from_utf8(std::mem::take(&mut safe.inner)).unwrap()
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        let hostile = "owner\u{1b}]52;c;ZWNobw==\u{7}\rX\u{85}\u{2028}\u{202e}\0end\tok\n";
        assert_eq!(
            clean(&[hostile.as_bytes()], false, true),
            "owner\\u{1b}]52;c;ZWNobw==\\u{7}\\rX\\u{85}\\u{2028}\\u{202e}\\u{0}end\tok\n"
        );
    }

    #[test]
    fn only_colour_sequences_pass_and_only_with_colour_on() {
        let text = "\u{1b}[1;31merror\u{1b}[0m \u{1b}[2J";
        assert_eq!(
            clean(&[text.as_bytes()], true, true),
            "\u{1b}[1;31merror\u{1b}[0m \\u{1b}[2J"
        );
        assert_eq!(
            clean(&[text.as_bytes()], false, true),
            "\\u{1b}[1;31merror\\u{1b}[0m \\u{1b}[2J"
        );
    }

    #[test]
    fn sequences_split_across_writes_are_judged_whole() {
        let text = "a\u{1b}[31mb\r\n€\u{1b}";
        let bytes = text.as_bytes();
        for cut in 1..bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(
                clean(&[a, b], true, true),
                "a\u{1b}[31mb\n€\\u{1b}",
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn long_text_reads_the_same_whole_or_a_byte_at_a_time() {
        let text = format!(
            "{}\n::x {}\u{1b}[2J\n  :: {}\u{85}é\n\t::y\n{}",
            "a".repeat(70),
            "b:".repeat(40),
            "c".repeat(33),
            "d\r".repeat(20)
        );
        let bytes: Vec<&[u8]> = text.as_bytes().chunks(1).collect();
        for (color, guard) in [(false, true), (true, false)] {
            assert_eq!(
                clean(&[text.as_bytes()], color, guard),
                clean(&bytes, color, guard)
            );
        }
        assert_eq!(printable_run(&[b'x'; 70]), 70);
        assert_eq!(
            printable_run(format!("{}\n", "x".repeat(40)).as_bytes()),
            40
        );
    }

    #[test]
    fn lines_cannot_start_a_workflow_command() {
        let text = "ok\n::error::forged\n  ::add-mask::x\nkey ::x\n";
        assert_eq!(
            clean(&[text.as_bytes()], false, true),
            "ok\n\\u{3a}:error::forged\n  \\u{3a}:add-mask::x\nkey ::x\n"
        );
        assert_eq!(clean(&[text.as_bytes()], false, false), text);
    }
}
