//! What the benchmarks share: running a command to its end, timing it and reading its
//! peak memory, putting the two sides side by side, writing commits through
//! `git fast-import`, and the generated code of the references and cleanup benchmarks.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods, dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of a command: how long it took, wall clock, and its peak resident memory.
#[derive(Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    pub peak_kib: u64,
}

/// Runs `command` to its end, its output thrown away, and measures it. The command must
/// exit with a code of at most `max_code` (an audit with findings exits 1); else it runs
/// once more to show what it said.
// The child is reaped by wait4, which also reports its peak memory, not by `Child::wait`.
#[allow(clippy::zombie_processes)]
pub fn run(command: &mut Command, max_code: i32) -> Run {
    let start = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills; the pid is our own child's.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert!(waited > 0, "wait4 failed for {command:?}");
    let exited = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) <= max_code;
    if !exited {
        let out = command.stderr(Stdio::piped()).output().unwrap();
        panic!(
            "{command:?} failed ({status}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Run {
        wall,
        peak_kib: usage.ru_maxrss as u64,
    }
}

/// The medians of several runs.
pub struct Summary {
    pub ms: f64,
    pub peak_mib: f64,
}

pub fn summary(runs: &[Run]) -> Summary {
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort();
    let mut peaks: Vec<u64> = runs.iter().map(|r| r.peak_kib).collect();
    peaks.sort();
    Summary {
        ms: walls[walls.len() / 2].as_secs_f64() * 1000.0,
        peak_mib: peaks[peaks.len() / 2] as f64 / 1024.0,
    }
}

/// Runs both sides `runs` times, alternating (after one warm-up run of each, for the file
/// cache), so that both see the same load of a shared machine; the medians of each.
pub fn compare(
    ours: &mut dyn FnMut() -> Command,
    theirs: &mut dyn FnMut() -> Command,
    max_code: i32,
    runs: usize,
) -> (Summary, Summary) {
    run(&mut ours(), max_code);
    run(&mut theirs(), 0);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(run(&mut ours(), max_code));
        b.push(run(&mut theirs(), 0));
    }
    (summary(&a), summary(&b))
}

/// One line of a comparison: both sides with their peak memory, and the ratio of their
/// times (flagctl's over the other's: below 1, flagctl is faster).
pub fn report(what: &str, ours: &Summary, theirs_name: &str, theirs: &Summary, runs: usize) {
    let ratio = ours.ms / theirs.ms;
    let faster = if ratio < 1.0 {
        format!(": flagctl {:.1}x faster", 1.0 / ratio)
    } else {
        String::new()
    };
    println!(
        "{what}: flagctl {:.0} ms, {:.1} MiB; {theirs_name} {:.0} ms, {:.1} MiB; ratio {ratio:.2}{faster} (medians of {runs})",
        ours.ms, ours.peak_mib, theirs.ms, theirs.peak_mib,
    );
}

/// How many runs of each side: `FLAGCTL_BENCH_RUNS`, else `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("FLAGCTL_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// Writes `services` folders of `per_service` flags under `root/flags`, with a
/// `flagctl.toml`: flags that mix every kind, rules, segments, layers and dependencies,
/// with a sprinkling of findings.
pub fn generate_flags(root: &std::path::Path, services: usize, per_service: usize) {
    std::fs::write(
        root.join("flagctl.toml"),
        "[policy]\nmax_flags_per_service = 100\n\n[segments.sg]\nwhen = [{ attr = \"country\", in = [\"SG\", \"MY\"] }]\n",
    )
    .unwrap();
    for s in 0..services {
        let dir = root.join(format!("flags/svc-{s:05}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..per_service {
            let key = format!("svc-{s:05}-flag-{f:02}");
            std::fs::write(dir.join(format!("{key}.toml")), flag_text(s, f)).unwrap();
        }
    }
}

/// Flag `f` of service `s`: its kind, dates, dependency and layer follow from `f % 4`.
fn flag_text(s: usize, f: usize) -> String {
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
    let (requires, layer) = if f % 4 >= 2 {
        let slot = ((f / 4) * 2 + f % 4 - 2) * 10 % 100;
        (
            format!("requires = [{{ flag = \"svc-{s:05}-flag-00\", variant = \"on\" }}]\n"),
            format!(
                "layer = {{ name = \"svc-{s:05}\", range = [{slot}, {}] }}\n",
                slot + 10
            ),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        "# generated\ndescription = \"flag {f} of service {s}\"\nkind = \"{kind}\"\nowner = \"team-{}@example.com\"\n{dates}\n\
         tags = [\"bench\"]\ncontrols = [\"model:svc-{s:05}\"]\n{requires}{layer}default = \"off\"\n\n\
         [variants]\noff = false\non = true\n\n\
         [[rules]]\nname = \"internal\"\nwhen = [{{ attr = \"email\", ends_with = \"@example.com\" }}]\nserve = \"on\"\n\n\
         [[rules]]\nname = \"sg-rollout\"\nsegment = \"sg\"\nrollout = [{{ variant = \"on\", weight = 10 }}, {{ variant = \"off\", weight = 90 }}]\n",
        s % 50
    )
}

/// A file command of `git fast-import`: `M` (write `text` at `path`) or `D` (delete it).
pub type Op = (&'static str, String, String);

/// One commit on `branch` after the commit marked `from`, merging the one marked `merge`.
#[allow(clippy::too_many_arguments)]
pub fn write_commit(
    stream: &mut impl Write,
    mark: usize,
    branch: &str,
    from: Option<usize>,
    merge: Option<usize>,
    time: u64,
    message: &str,
    ops: &[Op],
) {
    writeln!(stream, "commit refs/heads/{branch}\nmark :{mark}").unwrap();
    writeln!(stream, "author Bench <bench@example.com> {time} +0000\ncommitter Bench <bench@example.com> {time} +0000").unwrap();
    writeln!(stream, "data {}\n{message}", message.len()).unwrap();
    if let Some(from) = from {
        writeln!(stream, "from :{from}").unwrap();
    }
    if let Some(merge) = merge {
        writeln!(stream, "merge :{merge}").unwrap();
    }
    for (op, path, text) in ops {
        if *op == "D" {
            writeln!(stream, "D {path}").unwrap();
        } else {
            writeln!(
                stream,
                "M 100644 inline {path}\ndata {}\n{text}",
                text.len()
            )
            .unwrap();
        }
    }
    writeln!(stream).unwrap();
}

/// A temporary folder for a generated tree, kept (and named) with `FLAGCTL_BENCH_KEEP`.
pub fn bench_dir() -> tempfile::TempDir {
    let mut dir = tempfile::tempdir().unwrap();
    if std::env::var_os("FLAGCTL_BENCH_KEEP").is_some() {
        dir.disable_cleanup(true);
        println!("tree kept at {}", dir.path().display());
    }
    dir
}

/// Wall time of a whole process whose output goes through a pipe and is read to the end
/// (ripgrep stops early when it sees its output is /dev/null).
pub fn time(mut command: Command) -> Duration {
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

pub fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

/// The code tree of the references and cleanup benchmarks: handlers in Python,
/// TypeScript and Go reading 2,000 flags through OpenFeature SDK calls.
pub mod code {
    use std::fmt::Write as _;
    use std::path::Path;

    pub const FLAGS: usize = 2_000;
    pub const FILES: usize = 6_000;
    /// Lines of ordinary code per file: about 17 KB a file.
    pub const LINES: usize = 280;
    /// SDK calls per file that reads flags.
    pub const CALLS: usize = 6;

    pub fn key(n: usize) -> String {
        format!(
            "model-{}-v{}",
            ["ranker", "scorer", "embedder", "router"][n % 4],
            n
        )
    }

    /// Handler `n` in `language` (0 Python, 1 TypeScript, 2 Go): with `reads_flags`,
    /// `CALLS` SDK calls among ordinary code. With a `target`, the first call reads that
    /// flag and a condition reads its variable.
    pub fn handler(language: usize, n: usize, reads_flags: bool, target: Option<&str>) -> String {
        let mut text = String::with_capacity(17_500);
        let call_every = LINES / CALLS;
        for line in 0..LINES {
            let is_call = reads_flags && line % call_every == call_every / 2;
            let target = target.filter(|_| is_call && line == call_every / 2);
            let k = target.map_or_else(|| key((n * 7 + line * 13) % FLAGS), str::to_string);
            let (call, branch, comment, code) = match language {
                0 => (
                    format!("    enabled_{line} = client.get_boolean_value(\"{k}\", False, ctx)"),
                    format!(
                        "    if enabled_{line}:\n        features_{line} = boost(batch)\n    else:\n        features_{line} = batch"
                    ),
                    format!("    # step {line}: normalise the features of batch {n}"),
                    format!(
                        "    features_{line} = normalise(batch[\"feature_{line}\"], scale={line}.0)"
                    ),
                ),
                1 => (
                    format!(
                        "  const enabled{line} = await client.getBooleanValue('{k}', false, ctx);"
                    ),
                    format!(
                        "  if (enabled{line}) {{\n    candidate.boost = {line};\n  }} else {{\n    candidate.boost = 0;\n  }}"
                    ),
                    format!("  // step {line}: score the candidates of batch {n}"),
                    format!(
                        "  const score{line} = weights.get(\"w{line}\") * candidate.features[{line}];"
                    ),
                ),
                _ => (
                    format!(
                        "\tenabled{line}, _ := client.BooleanValue(ctx, \"{k}\", false, evalCtx)"
                    ),
                    format!(
                        "\tif enabled{line} {{\n\t\trequest.Boost = {line}\n\t}} else {{\n\t\trequest.Boost = 0\n\t}}"
                    ),
                    format!("\t// step {line}: route the request of batch {n}"),
                    format!("\troute{line} := router.Pick(\"r{line}\", request.Shard+{line})"),
                ),
            };
            let _ = if is_call {
                writeln!(text, "{call}")
            } else if line % 10 == 0 {
                writeln!(text, "{comment}")
            } else {
                writeln!(text, "{code}")
            };
            if target.is_some() {
                let _ = writeln!(text, "{branch}");
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

    /// Writes the `FLAGS` flags (experiments, in 40 services) under `root/flags`, and the
    /// `FILES` handlers under `root/services`; `reads(n)` says whether handler `n` reads
    /// flags and which flag its first call reads. Returns the bytes of code written.
    pub fn write(root: &Path, reads: impl Fn(usize) -> (bool, Option<&'static str>)) -> u64 {
        std::fs::write(
            root.join("flagctl.toml"),
            "[refs]\npaths = [\"services\"]\n",
        )
        .unwrap();
        for n in 0..FLAGS {
            let dir = root.join(format!("flags/svc-{:02}", n % 40));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{}.toml", key(n))), FLAG).unwrap();
        }
        let mut bytes = 0;
        for n in 0..FILES {
            let language = n % 3;
            let dir = root.join(format!("services/svc-{:02}/module-{:02}", n % 30, n % 7));
            std::fs::create_dir_all(&dir).unwrap();
            let extension = ["py", "ts", "go"][language];
            let (reads_flags, target) = reads(n);
            let text = handler(language, n, reads_flags, target);
            bytes += text.len() as u64;
            std::fs::write(dir.join(format!("handler_{n}.{extension}")), text).unwrap();
        }
        bytes
    }

    /// Every generated flag's file.
    pub const FLAG: &str = "description = \"generated\"\nkind = \"experiment\"\nowner = \"@team\"\ncreated = 2026-11-01\nexpires = 2026-11-30\ndefault = \"off\"\n[variants]\noff = false\non = true\n";
}
