//! Benchmark: the history of references — when each flag without a use lost its last one
//! — over a generated repository of 10,000 commits that touch 6,000 source files with
//! OpenFeature SDK calls in Python, TypeScript and Go, against `git log -p
//! --first-parent` over the same paths, in the same run.
//!
//! The history holds 30 flags whose last uses are removed at known commits, and 10 flags
//! that no code ever read, so the walk reads every commit back to the first.
//!
//! Run with `cargo bench --bench refs_history`. The repository is written by `git
//! fast-import`, then repacked as `git gc` would; `FLAGCTL_BENCH_KEEP=1` keeps it.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 6_000;
const COMMITS: usize = 10_000;
const SERVICES: usize = 40;
/// Flags the code reads throughout.
const COMMON: usize = 400;
/// Flags read in two files each until two known commits remove those reads.
const REMOVED: usize = 30;
/// Flags no code ever reads.
const DORMANT: usize = 10;
/// Files added per commit at the start, until all [`FILES`] exist.
const FILES_PER_COMMIT: usize = 10;
const RUNS: usize = 5;
/// The folder the code lives in, and the only one scanned.
const CODE: &str = "services";

/// A small deterministic generator (splitmix64): the same repository on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Language {
    Python,
    TypeScript,
    Go,
}

/// One source file: the flags its handlers read, in order, and how often its other code
/// was edited.
struct Source {
    service: usize,
    language: Language,
    calls: Vec<String>,
    revision: usize,
}

fn common_key(n: usize) -> String {
    format!("svc{:02}-feature-{n:03}", n % SERVICES)
}

fn removed_key(n: usize) -> String {
    format!("retiring-model-{n:02}")
}

fn dormant_key(n: usize) -> String {
    format!("dormant-switch-{n:02}")
}

impl Source {
    fn path(&self, index: usize) -> String {
        let (folder, extension) = match self.language {
            Language::Python => ("py", "py"),
            Language::TypeScript => ("ts", "ts"),
            Language::Go => ("go", "go"),
        };
        format!(
            "{CODE}/svc-{:02}/{folder}/handler_{index:04}.{extension}",
            self.service
        )
    }

    /// The file's text: a header, one handler per flag read, and some other code.
    fn text(&self, index: usize) -> String {
        let service = self.service;
        let revision = self.revision;
        let mut text = String::new();
        match self.language {
            Language::Python => {
                text.push_str(&format!(
                    "\"\"\"Request handlers of svc-{service:02} ({index}, revision {revision}).\"\"\"\n\
                     import logging\n\nfrom openfeature import api\nfrom openfeature.evaluation_context import EvaluationContext\n\n\
                     client = api.get_client(\"svc-{service:02}\")\nlog = logging.getLogger(__name__)\n\n"
                ));
                for (n, key) in self.calls.iter().enumerate() {
                    text.push_str(&format!(
                        "\ndef handle_{n}(request, user):\n    ctx = EvaluationContext(targeting_key=user.id, attributes={{\"country\": user.country}})\n    \
                         enabled = client.get_boolean_value(\"{key}\", False, ctx)\n    if enabled:\n        \
                         log.info(\"new path for %s\", user.id)\n        return render_v2(request, user)\n    return render_v1(request, user)\n\n"
                    ));
                }
                for n in 0..6 {
                    text.push_str(&format!(
                        "\ndef helper_{n}(items):\n    total = 0\n    for item in items:\n        total += item.price * {}\n    return total\n",
                        n + revision
                    ));
                }
            }
            Language::TypeScript => {
                text.push_str(&format!(
                    "// Request handlers of svc-{service:02} ({index}, revision {revision}).\n\
                     import {{ OpenFeature, EvaluationContext }} from '@openfeature/server-sdk';\n\n\
                     const client = OpenFeature.getClient('svc-{service:02}');\n\n"
                ));
                for (n, key) in self.calls.iter().enumerate() {
                    text.push_str(&format!(
                        "export async function handle{n}(req: Request, user: User): Promise<Response> {{\n  \
                         const ctx: EvaluationContext = {{ targetingKey: user.id, country: user.country }};\n  \
                         const enabled = await client.getBooleanValue('{key}', false, ctx);\n  \
                         if (enabled) {{\n    return renderV2(req, user);\n  }}\n  return renderV1(req, user);\n}}\n\n"
                    ));
                }
                for n in 0..6 {
                    text.push_str(&format!(
                        "export function helper{n}(items: Item[]): number {{\n  let total = 0;\n  for (const item of items) {{\n    total += item.price * {};\n  }}\n  return total;\n}}\n\n",
                        n + revision
                    ));
                }
            }
            Language::Go => {
                text.push_str(&format!(
                    "// Package svc{service:02} holds request handlers ({index}, revision {revision}).\n\
                     package svc{service:02}\n\nimport (\n\t\"context\"\n\n\t\"github.com/open-feature/go-sdk/openfeature\"\n)\n\n\
                     var client = openfeature.NewClient(\"svc-{service:02}\")\n\n"
                ));
                for (n, key) in self.calls.iter().enumerate() {
                    text.push_str(&format!(
                        "func Handle{n}(ctx context.Context, req *Request, user *User) (*Response, error) {{\n\t\
                         evalCtx := openfeature.NewEvaluationContext(user.ID, map[string]any{{\"country\": user.Country}})\n\t\
                         enabled, err := client.BooleanValue(ctx, \"{key}\", false, evalCtx)\n\t\
                         if err == nil && enabled {{\n\t\treturn renderV2(ctx, req, user)\n\t}}\n\treturn renderV1(ctx, req, user)\n}}\n\n"
                    ));
                }
                for n in 0..6 {
                    text.push_str(&format!(
                        "func helper{n}(items []Item) float64 {{\n\ttotal := 0.0\n\tfor _, item := range items {{\n\t\ttotal += item.Price * {}\n\t}}\n\treturn total\n}}\n\n",
                        n + revision
                    ));
                }
            }
        }
        text
    }
}

fn flag_text(n: usize) -> String {
    format!(
        "description = \"generated flag {n}\"\nkind = \"release\"\nowner = \"team-{}@example.com\"\n\
         created = 2026-11-01\nexpires = 2026-11-30\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n",
        n % 20
    )
}

/// The repository's commits, written to `git fast-import`.
struct Import<W: Write> {
    stream: W,
    mark: usize,
    time: u64,
}

impl<W: Write> Import<W> {
    /// One commit on main with the files `changes` writes.
    fn commit(&mut self, message: &str, changes: &[(String, String)]) {
        self.mark += 1;
        self.time += 60;
        let (mark, time) = (self.mark, self.time);
        let out = &mut self.stream;
        writeln!(out, "commit refs/heads/main\nmark :{mark}").unwrap();
        writeln!(
            out,
            "author Dev {} <dev@example.com> {time} +0000",
            mark % 7
        )
        .unwrap();
        writeln!(out, "committer Dev <dev@example.com> {time} +0000").unwrap();
        writeln!(out, "data {}\n{message}", message.len()).unwrap();
        if mark > 1 {
            writeln!(out, "from :{}", mark - 1).unwrap();
        }
        for (path, text) in changes {
            writeln!(out, "M 100644 inline {path}\ndata {}\n{text}", text.len()).unwrap();
        }
        writeln!(out).unwrap();
    }
}

/// Writes the repository; returns the commit message that removed the last use of each
/// of the [`REMOVED`] flags, by key.
fn generate(root: &Path) -> Vec<(String, String)> {
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(root)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut import_stream = Import {
        stream: std::io::BufWriter::new(import.stdin.take().unwrap()),
        mark: 0,
        time: 1_780_000_000, // 2026-05-28
    };
    let mut random = Random(42);
    let mut flags = vec![(
        "flagctl.toml".to_string(),
        format!("[policy]\nmax_flags_per_service = 1000\n\n[refs]\npaths = [\"{CODE}\"]\n"),
    )];
    let keys: Vec<String> = (0..COMMON)
        .map(common_key)
        .chain((0..REMOVED).map(removed_key))
        .chain((0..DORMANT).map(dormant_key))
        .collect();
    for (n, key) in keys.iter().enumerate() {
        flags.push((
            format!("flags/svc-{:02}/{key}.toml", n % SERVICES),
            flag_text(n),
        ));
    }
    import_stream.commit("add the flags", &flags);
    let mut sources: Vec<Source> = (0..FILES)
        .map(|index| Source {
            service: index % SERVICES,
            language: [Language::Python, Language::TypeScript, Language::Go][index % 3],
            calls: (0..3).map(|_| common_key(random.below(COMMON))).collect(),
            revision: 0,
        })
        .collect();
    // Each flag to be retired is read in two files of its own.
    let holders = |n: usize| [(n * 197) % FILES, (n * 197 + 101) % FILES];
    for n in 0..REMOVED {
        for file in holders(n) {
            sources[file].calls.push(removed_key(n));
        }
    }
    let write =
        |sources: &[Source], index: usize| (sources[index].path(index), sources[index].text(index));
    let mut commits = 1;
    for first in (0..FILES).step_by(FILES_PER_COMMIT) {
        let changes: Vec<_> = (first..first + FILES_PER_COMMIT)
            .map(|i| write(&sources, i))
            .collect();
        import_stream.commit(&format!("add handlers {first}.."), &changes);
        commits += 1;
    }
    // Each retiring flag loses one of its two reads, then (a known commit) the last one.
    let edits = COMMITS - commits;
    let retire_at = |n: usize| edits / 10 + n * (edits * 8 / 10) / REMOVED;
    let mut last_removals = Vec::new();
    for edit in 0..edits {
        let retiring = (0..REMOVED).find_map(|n| {
            if edit == retire_at(n) {
                Some((n, 0, "one read less of"))
            } else if edit == retire_at(n) + 97 {
                Some((n, 1, "remove last use of"))
            } else {
                None
            }
        });
        if let Some((n, which, verb)) = retiring {
            let file = holders(n)[which];
            let key = removed_key(n);
            sources[file].calls.retain(|k| *k != key);
            let message = format!("{verb} {key}");
            import_stream.commit(&message, &[write(&sources, file)]);
            if which == 1 {
                last_removals.push((key, message));
            }
            continue;
        }
        let file = random.below(FILES);
        let is_common = |key: &String| key.starts_with("svc");
        let (message, changed) = match random.below(20) {
            // Other code changes.
            0..=9 => {
                sources[file].revision += 1;
                (format!("tune helpers of handler {file}"), vec![file])
            }
            // A handler reads one more flag.
            10..=13 => {
                let key = common_key(random.below(COMMON));
                sources[file].calls.push(key.clone());
                (format!("gate handler {file} on {key}"), vec![file])
            }
            // A handler stops reading a flag.
            14..=16 => match sources[file].calls.iter().position(is_common) {
                Some(at) if sources[file].calls.len() > 1 => {
                    let key = sources[file].calls.remove(at);
                    (format!("drop {key} from handler {file}"), vec![file])
                }
                _ => {
                    sources[file].revision += 1;
                    (format!("tidy handler {file}"), vec![file])
                }
            },
            // A read moves to another file.
            _ => {
                let to = random.below(FILES);
                match sources[file].calls.iter().position(is_common) {
                    Some(at) if to != file => {
                        let key = sources[file].calls.remove(at);
                        sources[to].calls.push(key.clone());
                        (format!("move {key} to handler {to}"), vec![file, to])
                    }
                    _ => {
                        sources[file].revision += 1;
                        (format!("tidy handler {file}"), vec![file])
                    }
                }
            }
        };
        let changes: Vec<_> = changed.iter().map(|&i| write(&sources, i)).collect();
        import_stream.commit(&message, &changes);
    }
    drop(import_stream);
    assert!(import.wait().unwrap().success());
    git(&["checkout", "-q", "main"]);
    // As a repository looks after `git gc`.
    git(&["repack", "-adq", "--depth=50", "--window=10"]);
    last_removals
}

fn time(mut command: Command) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    let out = command.stderr(Stdio::piped()).output().unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (elapsed, out.stdout)
}

fn main() {
    let dir = support::bench_dir();
    let generated = Instant::now();
    let expected = generate(dir.path());
    let count = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    println!(
        "generated {} commits, {} files under {CODE}/ ({} flags), pack of {} in {:.1} s",
        count(&["rev-list", "--count", "HEAD"]),
        count(&["ls-files", CODE]).lines().count(),
        COMMON + REMOVED + DORMANT,
        count(&["count-objects", "-vH"])
            .lines()
            .find_map(|l| l.strip_prefix("size-pack: "))
            .unwrap_or("?"),
        generated.elapsed().as_secs_f64()
    );
    let flagctl = |history: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flagctl"));
        command
            .args(["--as-of", "2026-11-25", "refs", "--format", "json"])
            .current_dir(dir.path());
        if !history {
            command.arg("--no-history");
        }
        command
    };
    let git_log = || {
        let mut command = Command::new("git");
        command
            .args(["log", "-p", "--first-parent", "--no-color", "--", CODE])
            .current_dir(dir.path());
        command
    };
    // Warm the caches, and check the answers.
    let (_, refs) = time(flagctl(true));
    let refs: serde_json::Value = serde_json::from_slice(&refs).unwrap();
    for (key, message) in &expected {
        let flag = refs["flags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["flag"] == key.as_str())
            .unwrap();
        assert_eq!(
            flag["last_use_removed"]["summary"],
            message.as_str(),
            "{key}"
        );
    }
    let unused = refs["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["references"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(unused, REMOVED + DORMANT);
    let (_, patch) = time(git_log());
    println!(
        "git log -p prints {:.1} MB; every one of the {REMOVED} last removals found",
        patch.len() as f64 / 1e6
    );
    let (mut with, mut without, mut log) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        with.push(time(flagctl(true)).0);
        without.push(time(flagctl(false)).0);
        log.push(time(git_log()).0);
    }
    let (with, without, log) = (
        support::median(with),
        support::median(without),
        support::median(log),
    );
    let history = with - without;
    println!("refs (scan and history):       {with:.0} ms");
    println!("refs --no-history (scan only): {without:.0} ms");
    println!("history of references:         {history:.0} ms");
    println!("git log -p --first-parent:     {log:.0} ms");
    println!(
        "ratio to git log -p: history {:.2}, refs end to end {:.2} (median of {RUNS})",
        history / log,
        with / log
    );
}
