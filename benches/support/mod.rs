//! What the benchmarks that generate git history share: writing commits through
//! `git fast-import`, and timing the release binary.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A file command of `git fast-import`: `M` (write `text` at `path`) or `D` (delete it).
pub type Op = (&'static str, String, String);

/// One commit on `branch` after the commit marked `from`, merging the one marked `merge`.
#[allow(clippy::too_many_arguments)]
pub fn write_commit(
    stream: &mut impl Write,
    mark: usize,
    branch: &str,
    from: Option<usize>,
    merge: Option<usize>,
    time: u64,
    message: &str,
    ops: &[Op],
) {
    writeln!(stream, "commit refs/heads/{branch}\nmark :{mark}").unwrap();
    writeln!(stream, "author Bench <bench@example.com> {time} +0000\ncommitter Bench <bench@example.com> {time} +0000").unwrap();
    writeln!(stream, "data {}\n{message}", message.len()).unwrap();
    if let Some(from) = from {
        writeln!(stream, "from :{from}").unwrap();
    }
    if let Some(merge) = merge {
        writeln!(stream, "merge :{merge}").unwrap();
    }
    for (op, path, text) in ops {
        if *op == "D" {
            writeln!(stream, "D {path}").unwrap();
        } else {
            writeln!(
                stream,
                "M 100644 inline {path}\ndata {}\n{text}",
                text.len()
            )
            .unwrap();
        }
    }
    writeln!(stream).unwrap();
}

pub fn time(mut command: Command) -> Duration {
    let start = Instant::now();
    let out = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

pub fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}
