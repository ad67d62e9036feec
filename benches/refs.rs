//! Benchmark: `flagctl refs` over a generated tree of 6,000 source files (~100 MB of
//! Python, TypeScript and Go; one file in ten reads flags with six OpenFeature SDK calls)
//! and 2,000 flags, against ripgrep
//! searching the same keys as fixed strings (`rg -F -f keys`), in the same run: the text
//! scan alone (`refs --no-parse`) and the whole `refs`, parser step included.
//!
//! Run with `cargo bench --bench refs` (needs `rg` on the PATH).

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
/// SDK calls per file that reads flags.
const CALLS: usize = 6;
/// One file in this many reads flags: in a service most code never touches a flag, and
/// only files with a hit are parsed.
const READER_EVERY: usize = 10;
const RUNS: usize = 5;

fn key(n: usize) -> String {
    format!(
        "model-{}-v{}",
        ["ranker", "scorer", "embedder", "router"][n % 4],
        n
    )
}

/// One source file of `language` with `CALLS` SDK calls among ordinary code.
fn source(language: usize, n: usize) -> String {
    let reads_flags = n.is_multiple_of(READER_EVERY);
    let mut text = String::with_capacity(17_000);
    let call_every = LINES / CALLS;
    for line in 0..LINES {
        let k = key((n * 7 + line * 13) % FLAGS);
        let is_call = reads_flags && line % call_every == call_every / 2;
        match language {
            0 => {
                if is_call {
                    let _ = writeln!(
                        text,
                        "    enabled_{line} = client.get_boolean_value(\"{k}\", False, ctx)"
                    );
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

fn generate(root: &Path) -> u64 {
    let run = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(root)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    run(&["init", "-q"]);
    std::fs::write(
        root.join("flagctl.toml"),
        "[refs]\npaths = [\"services\"]\n",
    )
    .unwrap();
    let mut keys = String::new();
    for n in 0..FLAGS {
        let dir = root.join(format!("flags/svc-{:02}", n % 40));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{}.toml", key(n))),
            "description = \"generated\"\nkind = \"experiment\"\nowner = \"@team\"\ncreated = 2026-11-01\nexpires = 2026-11-30\ndefault = \"off\"\n[variants]\noff = false\non = true\n",
        )
        .unwrap();
        keys.push_str(&key(n));
        keys.push('\n');
    }
    std::fs::write(root.join("keys.txt"), keys).unwrap();
    let mut bytes = 0;
    for n in 0..FILES {
        let language = n % 3;
        let dir = root.join(format!("services/svc-{:02}/module-{:02}", n % 30, n % 7));
        std::fs::create_dir_all(&dir).unwrap();
        let extension = ["py", "ts", "go"][language];
        let text = source(language, n);
        bytes += text.len() as u64;
        std::fs::write(dir.join(format!("handler_{n}.{extension}")), text).unwrap();
    }
    bytes
}

/// Wall time of a whole process whose output goes through a pipe and is read to the end
/// (ripgrep stops early when it sees its output is /dev/null).
fn time(mut command: Command) -> Duration {
    let start = Instant::now();
    let out = command
        .stdout(Stdio::piped())
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

/// A named command line, built afresh for each run.
type Side<'a> = (&'static str, Box<dyn Fn() -> Command + 'a>);

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
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
