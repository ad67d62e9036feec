//! Benchmark: `audit --format json`, `validate` and `list --format json` over 1,000,
//! 10,000, 50,000 and 200,000 generated flags (services of 50), each against ripgrep
//! reading the same files (`rg -c . flags`: every file opened, read and its lines counted),
//! in the same run, with the peak memory of each.
//!
//! Run with `cargo bench --bench scale` (needs `rg` on the PATH). `FLAGCTL_BENCH_SIZES`
//! picks the sizes (`FLAGCTL_BENCH_SIZES=50000`), `FLAGCTL_BENCH_RUNS` the runs per side.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::process::Command;

const PER_SERVICE: usize = 50;
const RUNS: usize = 5;

fn main() {
    let sizes: Vec<usize> = std::env::var("FLAGCTL_BENCH_SIZES")
        .ok()
        .map(|sizes| sizes.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 50_000, 200_000]);
    let runs = support::runs(RUNS);
    for flags in sizes {
        let dir = tempfile::tempdir().unwrap();
        support::generate_flags(dir.path(), flags.div_ceil(PER_SERVICE), PER_SERVICE);
        let root = dir.path().to_str().unwrap();
        for (command, args) in [
            ("audit", &["audit", "--format", "json"][..]),
            ("validate", &["validate"][..]),
            ("list", &["list", "--format", "json"][..]),
        ] {
            let mut flagctl = || {
                let mut run = Command::new(env!("CARGO_BIN_EXE_flagctl"));
                run.args(["--repo", root, "--as-of", "2026-11-25"])
                    .args(args);
                run
            };
            let mut ripgrep = || {
                let mut run = Command::new("rg");
                run.args(["-c", ".", "flags"]).current_dir(dir.path());
                run
            };
            let (ours, theirs) = support::compare(&mut flagctl, &mut ripgrep, 1, runs);
            support::report(
                &format!("{command}, {flags} flags"),
                &ours,
                "rg -c . flags",
                &theirs,
                runs,
            );
        }
    }
}
