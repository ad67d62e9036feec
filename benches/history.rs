//! Benchmark: `flagctl audit` with its history pass over a generated repository of 2,000
//! flags and 10,000 commits, against `git log --name-status` over the same history, in
//! the same run.
//!
//! Run with `cargo bench --bench history`. The repository is written by `git fast-import`.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FLAGS: usize = 2_000;
const COMMITS: usize = 10_000;
const SERVICES: usize = 40;
const RUNS: usize = 5;

fn flag_text(n: usize, expires_day: usize) -> String {
    format!(
        "description = \"generated flag {n}\"\nkind = \"experiment\"\nowner = \"team-{}@example.com\"\n\
         created = 2026-11-01\nexpires = 2026-11-{expires_day:02}\ncontrols = [\"model:m{n}\"]\ndefault = \"off\"\n\n\
         [variants]\noff = false\non = true\n",
        n % 20
    )
}

fn path_of(n: usize, moved: bool) -> String {
    let service = if moved {
        (n + 1) % SERVICES
    } else {
        n % SERVICES
    };
    format!("flags/svc-{service:02}/flag-{n:04}.toml")
}

/// A linear history: one commit adds each flag, then every commit changes one flag
/// (an extension, an edit, or a move to another service).
fn generate(root: &Path) {
    let status = Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stream = std::io::BufWriter::new(import.stdin.take().unwrap());
    let mut moved = vec![false; FLAGS];
    let mut expires = vec![20usize; FLAGS];
    let start = 1_793_000_000u64; // 2026-10-26
    for c in 0..COMMITS {
        let time = start + c as u64 * 60;
        let (message, ops) = if c == 0 {
            (
                "init".to_string(),
                vec![(
                    "M".to_string(),
                    "flagctl.toml".to_string(),
                    String::from("[policy]\nmax_flags_per_service = 100\n"),
                )],
            )
        } else if c <= FLAGS {
            let n = c - 1;
            (
                format!("flagctl create: flag-{n:04}"),
                vec![("M".into(), path_of(n, false), flag_text(n, expires[n]))],
            )
        } else {
            let n = (c * 7919) % FLAGS;
            match c % 10 {
                0 => {
                    let old = path_of(n, moved[n]);
                    moved[n] = !moved[n];
                    let text = flag_text(n, expires[n]);
                    (
                        format!("move flag-{n:04}"),
                        vec![
                            ("D".into(), old, String::new()),
                            ("M".into(), path_of(n, moved[n]), text),
                        ],
                    )
                }
                1..=3 => {
                    expires[n] = (expires[n] + 1).min(30);
                    (
                        format!("flagctl extend: flag-{n:04}"),
                        vec![("M".into(), path_of(n, moved[n]), flag_text(n, expires[n]))],
                    )
                }
                _ => {
                    let text = flag_text(n, expires[n]) + &format!("# note {c}\n");
                    (
                        format!("edit flag-{n:04}"),
                        vec![("M".into(), path_of(n, moved[n]), text)],
                    )
                }
            }
        };
        writeln!(stream, "commit refs/heads/main\nmark :{}", c + 1).unwrap();
        writeln!(stream, "author Bench <bench@example.com> {time} +0000\ncommitter Bench <bench@example.com> {time} +0000").unwrap();
        writeln!(stream, "data {}\n{message}", message.len()).unwrap();
        if c > 0 {
            writeln!(stream, "from :{c}").unwrap();
        }
        for (op, path, text) in ops {
            if op == "D" {
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
    drop(stream);
    assert!(import.wait().unwrap().success());
    let status = Command::new("git")
        .args(["checkout", "-q", "main"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
}

fn time(mut command: Command) -> Duration {
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

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let mut dir = tempfile::tempdir().unwrap();
    if std::env::var_os("FLAGCTL_BENCH_KEEP").is_some() {
        dir.disable_cleanup(true);
        println!("repository kept at {}", dir.path().display());
    }
    let generated = Instant::now();
    generate(dir.path());
    println!(
        "generated {FLAGS} flags and {COMMITS} commits in {:.1} s",
        generated.elapsed().as_secs_f64()
    );
    let flagctl = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flagctl"));
        command
            .args(["--as-of", "2026-11-25", "audit", "--format", "json"])
            .current_dir(dir.path());
        command
    };
    let git_log = || {
        let mut command = Command::new("git");
        command
            .args(["log", "--name-status"])
            .current_dir(dir.path());
        command
    };
    time(flagctl()); // warm caches
    time(git_log());
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours.push(time(flagctl()));
        theirs.push(time(git_log()));
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "audit with history: {ours:.0} ms; git log --name-status: {theirs:.0} ms; ratio {:.2} (median of {RUNS})",
        ours / theirs
    );
}
