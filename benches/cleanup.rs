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

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FLAGS: usize = 2_000;
const FILES: usize = 6_000;
/// Lines of ordinary code per file: about 17 KB a file.
const LINES: usize = 280;
/// SDK calls per file.
const CALLS: usize = 6;
/// The flag cleaned up, and how many uses it has: one in every sixth file.
const TARGET: &str = "ranker-cleanup";
const USES: usize = 1_000;
const RUNS: usize = 5;
const GOAL: Duration = Duration::from_secs(2);

fn key(n: usize) -> String {
    format!(
        "model-{}-v{}",
        ["ranker", "scorer", "embedder", "router"][n % 4],
        n
    )
}

/// One source file of `language` with `CALLS` SDK calls among ordinary code; the first
/// call reads the target flag when `target`, and a condition reads its variable.
fn source(language: usize, n: usize, target: bool) -> String {
    let mut text = String::with_capacity(17_500);
    let call_every = LINES / CALLS;
    for line in 0..LINES {
        let is_call = line % call_every == call_every / 2;
        let is_target = target && line == call_every / 2;
        let k = if is_target {
            TARGET.to_string()
        } else {
            key((n * 7 + line * 13) % FLAGS)
        };
        match language {
            0 => {
                if is_call {
                    let _ = writeln!(
                        text,
                        "    enabled_{line} = client.get_boolean_value(\"{k}\", False, ctx)"
                    );
                    if is_target {
                        let _ = writeln!(
                            text,
                            "    if enabled_{line}:\n        features_{line} = boost(batch)\n    else:\n        features_{line} = batch"
                        );
                    }
                } else if line % 10 == 0 {
                    let _ = writeln!(
                        text,
                        "    # step {line}: normalise the features of batch {n}"
                    );
                } else {
                    let _ = writeln!(
                        text,
                        "    features_{line} = normalise(batch[\"feature_{line}\"], scale={line}.0)"
                    );
                }
            }
            1 => {
                if is_call {
                    let _ = writeln!(
                        text,
                        "  const enabled{line} = await client.getBooleanValue('{k}', false, ctx);"
                    );
                    if is_target {
                        let _ = writeln!(
                            text,
                            "  if (enabled{line}) {{\n    candidate.boost = {line};\n  }} else {{\n    candidate.boost = 0;\n  }}"
                        );
                    }
                } else if line % 10 == 0 {
                    let _ = writeln!(text, "  // step {line}: score the candidates of batch {n}");
                } else {
                    let _ = writeln!(
                        text,
                        "  const score{line} = weights.get(\"w{line}\") * candidate.features[{line}];"
                    );
                }
            }
            _ => {
                if is_call {
                    let _ = writeln!(
                        text,
                        "\tenabled{line}, _ := client.BooleanValue(ctx, \"{k}\", false, evalCtx)"
                    );
                    if is_target {
                        let _ = writeln!(
                            text,
                            "\tif enabled{line} {{\n\t\trequest.Boost = {line}\n\t}} else {{\n\t\trequest.Boost = 0\n\t}}"
                        );
                    }
                } else if line % 10 == 0 {
                    let _ = writeln!(text, "\t// step {line}: route the request of batch {n}");
                } else {
                    let _ = writeln!(
                        text,
                        "\troute{line} := router.Pick(\"r{line}\", request.Shard+{line})"
                    );
                }
            }
        }
    }
    match language {
        0 => format!("def handle_{n}(client, batch, ctx):\n{text}    return True\n"),
        1 => format!(
            "export async function handle{n}(client, weights, candidate, ctx) {{\n{text}  return true;\n}}\n"
        ),
        _ => format!(
            "package svc\n\nfunc Handle{n}(ctx context.Context, client Client, router Router, request Request, evalCtx EvalCtx) bool {{\n{text}\treturn true\n}}\n"
        ),
    }
}

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
    std::fs::write(
        root.join("flagctl.toml"),
        "[refs]\npaths = [\"services\"]\n",
    )
    .unwrap();
    let flag = "description = \"generated\"\nkind = \"experiment\"\nowner = \"@team\"\ncreated = 2026-11-01\nexpires = 2026-11-30\ndefault = \"off\"\n[variants]\noff = false\non = true\n";
    for n in 0..FLAGS {
        let dir = root.join(format!("flags/svc-{:02}", n % 40));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{}.toml", key(n))), flag).unwrap();
    }
    std::fs::write(
        root.join(format!("flags/svc-00/{TARGET}.toml")),
        format!(
            "{flag}\n[conclusion]\ndate = 2026-11-20\nwinner = \"on\"\nremove_by = 2026-12-20\n"
        ),
    )
    .unwrap();
    let mut bytes = 0;
    for n in 0..FILES {
        let language = n % 3;
        let dir = root.join(format!("services/svc-{:02}/module-{:02}", n % 30, n % 7));
        std::fs::create_dir_all(&dir).unwrap();
        let extension = ["py", "ts", "go"][language];
        let text = source(language, n, n % (FILES / USES) == 0);
        bytes += text.len() as u64;
        std::fs::write(dir.join(format!("handler_{n}.{extension}")), text).unwrap();
    }
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
    let mut dir = tempfile::tempdir().unwrap();
    if std::env::var_os("FLAGCTL_BENCH_KEEP").is_some() {
        dir.disable_cleanup(true);
        println!("tree kept at {}", dir.path().display());
    }
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
