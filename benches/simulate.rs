//! Benchmark: `flagctl simulate` over 1,000,000 contexts (target: under 1.5 s on 2 cores).
//!
//! Run with `cargo bench --bench simulate`. It times the release binary end to end
//! (start, load the example repository, make or read the contexts, evaluate, count, the
//! chi-square test, JSON output) on `ranker-v2`, a flag with a prerequisite, a layer, two
//! segment rules and a rollout, over several runs and prints the medians: once with
//! generated contexts (`--sample`), once reading a JSON Lines file (`--contexts`).

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

const CONTEXTS: usize = 1_000_000;
const RUNS: usize = 5;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs `simulate ranker-v2` with `args` RUNS times after a warm-up; the median time.
fn time(args: &[&str]) -> Duration {
    let run = || {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_flagctl"))
            .args([
                "--repo",
                env!("CARGO_MANIFEST_DIR"),
                "simulate",
                "ranker-v2",
            ])
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let elapsed = start.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result["contexts"], CONTEXTS);
        elapsed
    };
    run();
    median((0..RUNS).map(|_| run()).collect())
}

fn main() {
    let count = CONTEXTS.to_string();
    let sampled = time(&[
        "--sample",
        &count,
        "--attr",
        "country=SG,MY,ID",
        "--attr",
        "email=ann@example.com,bo@shop.sg,cy@shop.my",
        "--seed",
        "1",
    ]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contexts.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..CONTEXTS {
        let country = ["SG", "MY", "ID"][i % 3];
        writeln!(
            file,
            r#"{{"targetingKey": "user-{i}", "user_id": {i}, "country": "{country}", "email": "u{i}@shop.sg"}}"#
        )
        .unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let read = time(&["--contexts", path.to_str().unwrap()]);

    for (what, elapsed) in [
        ("generated (--sample)", sampled),
        ("read from JSON Lines (--contexts)", read),
    ] {
        println!(
            "simulate: {CONTEXTS} contexts {what}: median {:.0} ms over {RUNS} runs",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}
