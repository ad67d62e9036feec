//! Benchmark: `flagctl report` against `flagctl audit` with its history pass, on the same
//! generated repository of 2,000 flags and 10,000 commits over half a year: flags
//! created, rolled out, extended, concluded and archived, with changes in the last week
//! (so the stability check reads old versions of flag files).
//!
//! Run with `cargo bench --bench report`. The repository is written by `git fast-import`;
//! both commands run end to end (the release binary), and the medians and their ratio are
//! printed.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{DateTime, Days};
use support::{Op, median, time, write_commit};

const FLAGS: usize = 2_000;
const COMMITS: usize = 10_000;
const SERVICES: usize = 40;
const RUNS: usize = 5;
/// 2026-06-01, and the minutes between commits: the last lands on 2026-11-23.
const START: u64 = 1_780_272_000;
const STEP: u64 = 25 * 60;

/// What a flag's file says at a point of the history.
#[derive(Clone)]
struct State {
    created: String,
    expires_days: u64,
    weight: u32,
    concluded: Option<String>,
    archived: bool,
}

fn date(time: u64) -> String {
    DateTime::from_timestamp(time as i64, 0)
        .expect("a time")
        .date_naive()
        .to_string()
}

fn path_of(n: usize, archived: bool) -> String {
    let archive = if archived { "_archive/" } else { "" };
    format!("flags/{archive}svc-{:02}/flag-{n:04}.toml", n % SERVICES)
}

fn text(n: usize, state: &State) -> String {
    let created: chrono::NaiveDate = state.created.parse().expect("a date");
    let expires = created + Days::new(state.expires_days);
    let mut text = format!(
        "description = \"generated flag {n}\"\nkind = \"experiment\"\nowner = \"team-{}\"\n\
         created = {}\nexpires = {expires}\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n\n\
         [[rules]]\nname = \"rollout\"\nrollout = [{{ variant = \"on\", weight = {} }}, {{ variant = \"off\", weight = {} }}]\n",
        n % 25,
        state.created,
        state.weight,
        100 - state.weight
    );
    if let Some(day) = &state.concluded {
        text.push_str(&format!(
            "\n[conclusion]\ndate = {day}\nwinner = \"on\"\nremove_by = {day}\n"
        ));
    }
    if state.archived {
        text.push_str("\n[archived]\ndate = 2026-11-01\n");
    }
    text
}

/// One commit adds each flag, then every commit changes one: a rollout step, an
/// extension, a conclusion, an archive, or an edit.
fn generate(root: &Path) {
    let status = Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stream = std::io::BufWriter::new(import.stdin.take().unwrap());
    let mut flags: Vec<Option<State>> = vec![None; FLAGS];
    for c in 0..COMMITS {
        let time = START + c as u64 * STEP;
        let (message, ops): (String, Vec<Op>) = if c == 0 {
            let config = "[policy]\nmax_flags_per_service = 100\n[kinds.experiment]\ntemporary = true\nmax_days = 365\n";
            (
                "init".into(),
                vec![("M", "flagctl.toml".into(), config.into())],
            )
        } else if c <= FLAGS {
            let n = c - 1;
            let state = State {
                created: date(time),
                expires_days: 60,
                weight: 10,
                concluded: None,
                archived: false,
            };
            let ops = vec![("M", path_of(n, false), text(n, &state))];
            flags[n] = Some(state);
            (format!("flagctl create: flag-{n:04}"), ops)
        } else {
            let n = (c * 7919) % FLAGS;
            let state = flags[n].as_mut().expect("created");
            let before = path_of(n, state.archived);
            let message = match (c % 10, state.archived, &state.concluded) {
                (_, true, _) => "edit an archived flag",
                (0 | 1, false, Some(_)) => {
                    state.archived = true;
                    "flagctl archive"
                }
                (0 | 1, false, None) if state.weight == 100 => {
                    state.concluded = Some(date(time));
                    "flagctl expire"
                }
                (0..=3, false, None) => {
                    state.weight = (state.weight + 30).min(100);
                    "roll out further"
                }
                (4 | 5, false, _) => {
                    state.expires_days = (state.expires_days + 7).min(365);
                    "flagctl extend"
                }
                _ => "edit",
            };
            let mut ops = vec![("M", path_of(n, state.archived), text(n, state))];
            if before != ops[0].1 {
                ops.push(("D", before, String::new()));
            }
            (format!("{message}: flag-{n:04}"), ops)
        };
        let parent = (c > 0).then_some(c);
        write_commit(
            &mut stream,
            c + 1,
            "main",
            parent,
            None,
            time,
            &message,
            &ops,
        );
    }
    drop(stream);
    assert!(import.wait().unwrap().success());
    let status = Command::new("git")
        .args(["checkout", "-q", "main"])
        .current_dir(root)
        .status()
        .unwrap();
    assert!(status.success());
}

fn main() {
    let dir = support::bench_dir();
    let generated = Instant::now();
    generate(dir.path());
    println!(
        "generated {FLAGS} flags in {COMMITS} commits over half a year in {:.1} s",
        generated.elapsed().as_secs_f64()
    );
    let flagctl = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flagctl"));
        command
            .args(["--as-of", "2026-11-25"])
            .args(args)
            .current_dir(dir.path());
        command
    };
    let sides: [(&str, &[&str]); 3] = [
        ("audit with history", &["audit", "--format", "json"]),
        ("report --format json", &["report", "--format", "json"]),
        ("report --format html", &["report", "--format", "html"]),
    ];
    for (_, args) in sides {
        time(flagctl(args)); // warm caches
    }
    let mut times = vec![Vec::new(); sides.len()];
    for _ in 0..RUNS {
        for (side, (_, args)) in sides.iter().enumerate() {
            times[side].push(time(flagctl(args)));
        }
    }
    let medians: Vec<f64> = times.into_iter().map(median).collect();
    for (side, (name, _)) in sides.iter().enumerate() {
        println!(
            "{name}: {:.0} ms; ratio to audit {:.2} (median of {RUNS})",
            medians[side],
            medians[side] / medians[0]
        );
    }
}
