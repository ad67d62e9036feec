//! Benchmark: `flagctl audit` with its history pass over a generated repository of 2,000
//! flags, against `git log --name-status` over the same history, in the same run, with
//! the peak memory of each: 10,000 commits on main, the same changes arriving by pull
//! requests merged with `--no-ff`, and 100,000 commits on main.
//!
//! Run with `cargo bench --bench history`. The repository is written by `git fast-import`.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const FLAGS: usize = 2_000;
const SERVICES: usize = 40;
const RUNS: usize = 5;
/// The commits of one pull request, in the history shaped by pull requests.
const PR_SIZE: usize = 4;

use support::write_commit;

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

fn generate(root: &Path, changes: usize, pull_requests: bool) -> usize {
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
    let (mut mark, mut main, mut branch, mut merged) = (0, None, None, Vec::new());
    for c in 0..changes {
        let time = start + c as u64 * 60;
        let (message, ops) = if c == 0 {
            (
                "init".to_string(),
                vec![(
                    "M",
                    "flagctl.toml".to_string(),
                    String::from("[policy]\nmax_flags_per_service = 100\n"),
                )],
            )
        } else if c <= FLAGS {
            let n = c - 1;
            (
                format!("flagctl create: flag-{n:04}"),
                vec![("M", path_of(n, false), flag_text(n, expires[n]))],
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
                        vec![("D", old, String::new()), ("M", path_of(n, moved[n]), text)],
                    )
                }
                1..=3 => {
                    expires[n] = (expires[n] + 1).min(30);
                    (
                        format!("flagctl extend: flag-{n:04}"),
                        vec![("M", path_of(n, moved[n]), flag_text(n, expires[n]))],
                    )
                }
                _ => {
                    let text = flag_text(n, expires[n]) + &format!("# note {c}\n");
                    (
                        format!("edit flag-{n:04}"),
                        vec![("M", path_of(n, moved[n]), text)],
                    )
                }
            }
        };
        mark += 1;
        if !pull_requests || c <= FLAGS {
            write_commit(&mut stream, mark, "main", main, None, time, &message, &ops);
            main = Some(mark);
            continue;
        }
        write_commit(
            &mut stream,
            mark,
            "pr",
            branch.or(main),
            None,
            time,
            &message,
            &ops,
        );
        branch = Some(mark);
        merged.push(ops);
        if merged.len() == PR_SIZE || c == changes - 1 {
            // The merge's tree is the branch's: main did not move meanwhile.
            let ops = std::mem::take(&mut merged).concat();
            let message = format!("Merge pull request #{c}");
            mark += 1;
            write_commit(
                &mut stream,
                mark,
                "main",
                main,
                branch,
                time + 30,
                &message,
                &ops,
            );
            (main, branch) = (Some(mark), None);
        }
    }
    drop(stream);
    assert!(import.wait().unwrap().success());
    let status = Command::new("git")
        .args(["checkout", "-q", "main"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    mark
}

fn main() {
    let runs = support::runs(RUNS);
    for (shape, changes, pull_requests) in [
        ("on main", 10_000, false),
        ("by pull request", 10_000, true),
        ("on main", 100_000, false),
    ] {
        let dir = support::bench_dir();
        let generated = Instant::now();
        let commits = generate(dir.path(), changes, pull_requests);
        println!(
            "generated {FLAGS} flags in {commits} commits {shape} in {:.1} s",
            generated.elapsed().as_secs_f64()
        );
        let mut flagctl = || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_flagctl"));
            command
                .args(["--as-of", "2026-11-25", "audit", "--format", "json"])
                .current_dir(dir.path());
            command
        };
        let mut git_log = || {
            let mut command = Command::new("git");
            command
                .args(["log", "--name-status"])
                .current_dir(dir.path());
            command
        };
        let (ours, theirs) = support::compare(&mut flagctl, &mut git_log, 1, runs);
        support::report(
            &format!("audit with history, {commits} commits {shape}"),
            &ours,
            "git log --name-status",
            &theirs,
            runs,
        );
    }
}
