//! Benchmark: `flagctl cleanup` of one concluded flag with 1,000 uses over the generated tree
//! of the references benchmark (`benches/refs.rs`: 6,000 source files, ~100 MB of Python,
//! TypeScript and Go with OpenFeature SDK calls, 2,000 flags). Each use is an evaluation
//! whose variable a condition reads, so every use is rewritten, inlined and its dead branch
//! removed. Timed end to end, the release binary: `cleanup --dry-run` (scan, rewrite, diff)
//! and `cleanup` (the same, then the atomic writes and the commit of ~1,000 files).
//!
//! Run with `cargo bench --bench cleanup`.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::code::{self, FILES, FLAGS};

/// The flag cleaned up, and how many uses it has: one in every sixth file.
const TARGET: &str = "ranker-cleanup";
const USES: usize = 1_000;
const RUNS: usize = 5;
const GOAL: Duration = Duration::from_secs(2);

fn git(root: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn generate(root: &Path) -> u64 {
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Bench"]);
    git(root, &["config", "user.email", "bench@example.com"]);
    git(root, &["config", "commit.gpgsign", "false"]);
    let bytes = code::write(root, |n| {
        (true, n.is_multiple_of(FILES / USES).then_some(TARGET))
    });
    std::fs::write(
        root.join(format!("flags/svc-00/{TARGET}.toml")),
        format!(
            "{}\n[conclusion]\ndate = 2026-11-20\nwinner = \"on\"\nremove_by = 2026-12-20\n",
            code::FLAG
        ),
    )
    .unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "generated"]);
    bytes
}

/// Wall time of `flagctl ARGS…`, its output read to the end; the JSON it printed.
fn time(root: &Path, args: &[&str]) -> (Duration, serde_json::Value) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_flagctl"))
        .args([
            "--as-of",
            "2026-11-25",
            "--format",
            "json",
            "cleanup",
            TARGET,
        ])
        .args(args)
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, serde_json::from_slice(&out.stdout).unwrap())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let dir = support::bench_dir();
    let root = dir.path();
    let generated = Instant::now();
    let bytes = generate(root);
    println!(
        "generated {FILES} source files ({:.0} MB), {FLAGS} flags and `{TARGET}` with {USES} uses in {:.1} s",
        bytes as f64 / 1e6,
        generated.elapsed().as_secs_f64()
    );
    let (_, warm) = time(root, &["--dry-run"]); // warm the page cache
    let summary = &warm["flags"][0];
    assert_eq!(summary["uses"], USES, "{summary}");
    assert_eq!(summary["rewritten"], USES, "{summary}");
    println!(
        "{} uses, {} rewritten, {} files, +{} −{} lines",
        summary["uses"],
        summary["rewritten"],
        summary["files"],
        summary["lines_added"],
        summary["lines_removed"]
    );
    let mut dry = Vec::new();
    let mut real = Vec::new();
    for _ in 0..RUNS {
        dry.push(time(root, &["--dry-run"]).0);
        let (elapsed, done) = time(root, &[]);
        assert!(done["commit"].is_string(), "{done}");
        real.push(elapsed);
        git(root, &["reset", "-q", "--hard", "HEAD~1"]);
    }
    for (name, times) in [
        ("cleanup --dry-run", dry),
        ("cleanup (writes, commits)", real),
    ] {
        let m = median(times);
        println!(
            "{name:>26}: {:6.0} ms median of {RUNS}  (target < {} ms: {})",
            m.as_secs_f64() * 1000.0,
            GOAL.as_millis(),
            if m < GOAL { "met" } else { "MISSED" }
        );
    }
}
