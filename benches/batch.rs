//! Benchmark: batch evaluation against flagd's own JS engine (`@openfeature/flagd-core`,
//! pinned in tests/engines), whole process against whole process, in the same run, with
//! the peak memory of each: `simulate ranker-v2 --contexts` and `eval --all --contexts`
//! over 200,000 JSON Lines contexts, the node side reading the same file and resolving the
//! flags of the example repository as `flagctl export` writes them.
//!
//! Two files of contexts: `lean` lines hold only what the example flags read (targeting
//! key, user id, country, e-mail); `rich` lines also carry what a real application's
//! context does (platform, version, locale, a session object, a feature vector).
//!
//! Run with `cargo bench --bench batch` (needs node, and `npm ci --prefix tests/engines`).

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;

const CONTEXTS: usize = 200_000;
const RUNS: usize = 5;

fn write_contexts(path: &Path, rich: bool) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..CONTEXTS {
        let country = ["SG", "MY", "ID", "DE"][i % 4];
        write!(
            file,
            r#"{{"targetingKey": "user-{i}", "user_id": "u-{i}", "country": "{country}", "email": "u{i}@shop.sg""#
        )
        .unwrap();
        if rich {
            let platform = ["ios", "android", "web"][i % 3];
            write!(
                file,
                r#", "platform": "{platform}", "app_version": "5.{}.{}", "account_age_days": {}, "merchant_tier": "{}", "locale": "en-{country}", "session": {{"id": "s-{i:08x}", "started": "2026-11-20T10:{:02}:00Z", "referrer": "https://example.com/landing?campaign=c{}&utm=\u00e9t\u00e9"}}, "features": [0.{:03}, 1.5e-3, {}, true, null]"#,
                i % 5,
                i % 7,
                i % 400,
                ["gold", "silver", "platinum"][i % 3],
                i % 60,
                i % 97,
                i % 1000,
                i % 13,
            )
            .unwrap();
        }
        writeln!(file, "}}").unwrap();
    }
    file.flush().unwrap();
}

fn main() {
    let runs = support::runs(RUNS);
    let engines = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines");
    if !engines
        .join("node_modules/@openfeature/flagd-core")
        .is_dir()
    {
        println!(
            "skipped: run `npm ci --prefix tests/engines` first (flagd-core is the other side)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flagd = dir.path().join("flags.flagd.json");
    let status = Command::new(env!("CARGO_BIN_EXE_flagctl"))
        .args([
            "--repo",
            env!("CARGO_MANIFEST_DIR"),
            "--as-of",
            "2026-11-25",
        ])
        .args(["export", "-o", flagd.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for shape in ["lean", "rich"] {
        let contexts = dir.path().join(format!("{shape}.jsonl"));
        write_contexts(&contexts, shape == "rich");
        let size = std::fs::metadata(&contexts).unwrap().len();
        println!(
            "{CONTEXTS} {shape} contexts: {:.1} MB",
            size as f64 / 1_000_000.0
        );
        let flagctl = |args: &[&str]| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_flagctl"));
            command
                .args([
                    "--repo",
                    env!("CARGO_MANIFEST_DIR"),
                    "--as-of",
                    "2026-11-25",
                ])
                .args(args)
                .args(["--contexts", contexts.to_str().unwrap(), "--format", "json"]);
            command
        };
        let node = |args: &[&str]| {
            let mut command = Command::new("node");
            command
                .arg(engines.join("bench.js"))
                .arg(args[0])
                .arg(&flagd)
                .arg(&contexts)
                .args(&args[1..]);
            command
        };
        let (ours, theirs) = support::compare(
            &mut || flagctl(&["simulate", "ranker-v2"]),
            &mut || node(&["simulate", "ranker-v2"]),
            0,
            runs,
        );
        support::report(
            &format!("simulate ranker-v2 --contexts, {shape}"),
            &ours,
            "flagd-core",
            &theirs,
            runs,
        );
        let (ours, theirs) = support::compare(
            &mut || flagctl(&["eval", "--all"]),
            &mut || node(&["all"]),
            0,
            runs,
        );
        support::report(
            &format!("eval --all --contexts, {shape}"),
            &ours,
            "flagd-core",
            &theirs,
            runs,
        );
    }
}
