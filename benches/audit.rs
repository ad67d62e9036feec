//! Benchmark: `flagctl audit` over a generated repository of 10,000 flags in 500 services.
//!
//! Run with `cargo bench --bench audit`. It times the release binary end to end (start,
//! load, parse, every check, JSON output) over several runs and prints the median.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

const SERVICES: usize = 500;
const FLAGS_PER_SERVICE: usize = 20;
const RUNS: usize = 7;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    support::generate_flags(dir.path(), SERVICES, FLAGS_PER_SERVICE);
    let binary = env!("CARGO_BIN_EXE_flagctl");
    let run = || {
        let start = Instant::now();
        let out = Command::new(binary)
            .args([
                "--repo",
                dir.path().to_str().unwrap(),
                "--as-of",
                "2026-11-25",
                "audit",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (elapsed, out.stdout)
    };
    let (_, first) = run(); // warm the file cache
    let findings: serde_json::Value = serde_json::from_slice(&first).unwrap();
    let times: Vec<Duration> = (0..RUNS).map(|_| run().0).collect();
    println!(
        "audit: {} flags in {SERVICES} services, {} findings: median {:.0} ms over {RUNS} runs (min {:.0} ms)",
        findings["flags"],
        findings["findings"].as_array().map_or(0, Vec::len),
        median(times.clone()).as_secs_f64() * 1000.0,
        times.iter().min().unwrap().as_secs_f64() * 1000.0,
    );
}
