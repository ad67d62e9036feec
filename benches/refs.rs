//! Benchmark: `flagctl refs` over a generated tree of 6,000 source files (~100 MB of
//! Python, TypeScript and Go; one file in ten reads flags with six OpenFeature SDK calls)
//! and 2,000 flags, against ripgrep
//! searching the same keys as fixed strings (`rg -F -f keys`), in the same run: the text
//! scan alone (`refs --no-parse`) and the whole `refs`, parser step included.
//!
//! Run with `cargo bench --bench refs` (needs `rg` on the PATH).

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use support::code::{self, FILES, FLAGS};
use support::{median, time};

/// One file in this many reads flags: in a service most code never touches a flag, and
/// only files with a hit are parsed.
const READER_EVERY: usize = 10;
const RUNS: usize = 5;

fn generate(root: &Path) -> u64 {
    let status = Command::new("git")
        .args(["init", "-q"])
        .current_dir(root)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let keys: String = (0..FLAGS).map(|n| code::key(n) + "\n").collect();
    std::fs::write(root.join("keys.txt"), keys).unwrap();
    code::write(root, |n| (n.is_multiple_of(READER_EVERY), None))
}

/// A named command line, built afresh for each run.
type Side<'a> = (&'static str, Box<dyn Fn() -> Command + 'a>);

fn main() {
    let dir = support::bench_dir();
    let root = dir.path();
    let generated = Instant::now();
    let bytes = generate(root);
    println!(
        "generated {FILES} source files ({:.0} MB) and {FLAGS} flags in {:.1} s",
        bytes as f64 / 1e6,
        generated.elapsed().as_secs_f64()
    );
    let flagctl = |extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flagctl"));
        command
            .args(["--as-of", "2026-11-25", "--format", "json", "refs"])
            .args(extra)
            .current_dir(root);
        command
    };
    let ripgrep = || {
        let mut command = Command::new("rg");
        command
            .args(["-F", "-f", "keys.txt", "-n", "--column", "services"])
            .current_dir(root);
        command
    };
    let sides: [Side<'_>; 3] = [
        ("rg -F -f keys", Box::new(ripgrep)),
        (
            "refs --no-parse",
            Box::new(move || flagctl(&["--no-parse"])),
        ),
        ("refs", Box::new(move || flagctl(&[]))),
    ];
    for (_, command) in &sides {
        time(command()); // warm the page cache
    }
    let mut times = vec![Vec::new(); sides.len()];
    for _ in 0..RUNS {
        for (i, (_, command)) in sides.iter().enumerate() {
            times[i].push(time(command()));
        }
    }
    let medians: Vec<f64> = times.into_iter().map(median).collect();
    let rg = medians[0];
    for ((name, _), ms) in sides.iter().zip(&medians) {
        println!("{name:>16}: {ms:6.0} ms  ({:.2}× rg)", ms / rg);
    }
}
