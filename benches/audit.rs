//! Benchmark: `flagctl audit` over a generated repository of 10,000 flags in 500 services.
//!
//! Run with `cargo bench --bench audit`. It times the release binary end to end (start,
//! load, parse, every check, JSON output) over several runs and prints the median.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SERVICES: usize = 500;
const FLAGS_PER_SERVICE: usize = 20;
const RUNS: usize = 7;

/// Writes a repository whose flags mix every kind, rules, segments, layers and
/// dependencies, with a sprinkling of findings.
fn generate(root: &Path) {
    std::fs::write(
        root.join("flagctl.toml"),
        "[segments.sg]\nwhen = [{ attr = \"country\", in = [\"SG\", \"MY\"] }]\n",
    )
    .unwrap();
    for s in 0..SERVICES {
        let dir = root.join(format!("flags/svc-{s:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..FLAGS_PER_SERVICE {
            let key = format!("svc-{s:03}-flag-{f:02}");
            let day = 1 + (s + f) % 28;
            let (kind, dates) = match f % 4 {
                0 => (
                    "kill-switch",
                    format!("created = 2026-10-{day:02}\nreview_by = 2027-01-{day:02}"),
                ),
                1 => (
                    "parameter",
                    format!("created = 2026-10-{day:02}\nreview_by = 2026-12-{day:02}"),
                ),
                _ => (
                    "experiment",
                    format!("created = 2026-11-{day:02}\nexpires = 2026-12-{day:02}"),
                ),
            };
            let requires = if f % 4 >= 2 {
                format!("requires = [{{ flag = \"svc-{s:03}-flag-00\", variant = \"on\" }}]\n")
            } else {
                String::new()
            };
            let layer = if f % 4 >= 2 {
                let slot = ((f / 4) * 2 + f % 4 - 2) * 10;
                format!(
                    "layer = {{ name = \"svc-{s:03}\", range = [{slot}, {}] }}\n",
                    slot + 10
                )
            } else {
                String::new()
            };
            let text = format!(
                "# generated\ndescription = \"flag {f} of service {s}\"\nkind = \"{kind}\"\nowner = \"team-{}@example.com\"\n{dates}\n\
                 tags = [\"bench\"]\ncontrols = [\"model:svc-{s:03}\"]\n{requires}{layer}default = \"off\"\n\n\
                 [variants]\noff = false\non = true\n\n\
                 [[rules]]\nname = \"internal\"\nwhen = [{{ attr = \"email\", ends_with = \"@example.com\" }}]\nserve = \"on\"\n\n\
                 [[rules]]\nname = \"sg-rollout\"\nsegment = \"sg\"\nrollout = [{{ variant = \"on\", weight = 10 }}, {{ variant = \"off\", weight = 90 }}]\n",
                s % 50
            );
            std::fs::write(dir.join(format!("{key}.toml")), text).unwrap();
        }
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path());
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
