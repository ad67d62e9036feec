//! Output people can use: tables that fit the terminal and line up, statuses coloured by
//! urgency, filters that say what they did not find, short audits, and errors that show
//! the syntax they expected.

mod common;

use std::time::Duration;

use common::{TestRepo, example_repo, experiment, on_example};
use expectrl::{Eof, Expect, Session};
use predicates::prelude::*;
use serde_json::Value;

/// The stdout of a command with its exit code checked, and its stderr.
fn run(mut cmd: assert_cmd::Command, code: i32) -> (String, String) {
    let out = cmd.env("NO_COLOR", "1").output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// What flagctl prints in a pseudo-terminal of `columns` columns (line ends as `\n`).
fn in_terminal(columns: u16, args: &[&str]) -> String {
    // The terminal's size is set once the child waits for it: the pty sets its own
    // default of 80 columns after the child starts, which a `stty` in the child races.
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("read sized && exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin!("flagctl"))
        .args(common::dated(args))
        .current_dir(example_repo())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut session = Session::spawn(command).expect("spawn flagctl in a pty");
    session
        .get_process_mut()
        .set_window_size(columns, 50)
        .expect("size the pty");
    session.send_line("sized").expect("start flagctl");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    let all = session.expect(Eof).unwrap();
    String::from_utf8_lossy(all.get(0).unwrap()).replace("\r\n", "\n")
}

/// The keys of `list`'s rows, in order.
fn listed(args: &[&str]) -> Vec<String> {
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    let (text, _) = run(on_example(&all), 0);
    text.lines()
        .skip(1)
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .collect()
}

// ---- eval --contexts ------------------------------------------------------------------

fn contexts_repo() -> TestRepo {
    let repo = TestRepo::new();
    common::copy_example(repo.path());
    repo.write(
        "contexts.jsonl",
        "{\"targetingKey\": \"u-1\"}\n{\"targetingKey\": \"u-2\", \"email\": \"qa@example.com\"}\n",
    );
    repo
}

#[test]
fn eval_contexts_prints_an_aligned_table_with_the_rule() {
    let repo = contexts_repo();
    let (text, _) = run(
        repo.flagctl(&["eval", "ranker-v2", "--contexts", "contexts.jsonl"]),
        0,
    );
    assert!(!text.contains('\t'), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["LINE", "FLAG", "VARIANT", "VALUE", "REASON", "RULE"]
    );
    // Aligned: each column starts where its header does.
    let reason_at = lines[0].find("REASON").unwrap();
    assert_eq!(
        lines[1][reason_at..].split_whitespace().next(),
        Some("DEFAULT")
    );
    assert_eq!(
        lines[2][reason_at..].split_whitespace().collect::<Vec<_>>(),
        ["TARGETING_MATCH", "qa-accounts"]
    );
    assert!(lines[2].starts_with("2 "), "{text}");
}

#[test]
fn eval_contexts_json_lines_stay_as_they_were() {
    let repo = contexts_repo();
    let (text, _) = run(
        repo.flagctl(&[
            "eval",
            "ranker-v2",
            "--contexts",
            "contexts.jsonl",
            "--format",
            "json",
        ]),
        0,
    );
    assert_eq!(
        text,
        "{\"line\":1,\"flag\":\"ranker-v2\",\"variant\":\"baseline\",\"value\":{\"model\":\"ranker\",\"version\":\"1.4.0\"},\"reason\":\"DEFAULT\"}\n\
         {\"line\":2,\"flag\":\"ranker-v2\",\"variant\":\"candidate\",\"value\":{\"model\":\"ranker\",\"version\":\"2.0.0\"},\"reason\":\"TARGETING_MATCH\"}\n"
    );
}

// ---- list -----------------------------------------------------------------------------

#[test]
fn list_keeps_within_a_100_column_terminal_one_line_per_flag() {
    let text = in_terminal(100, &["list"]);
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines {
        assert!(line.chars().count() <= 100, "wider than 100:\n{text}");
    }
    // A line above, the header, a line under it, one line per flag, a line below.
    let (piped, _) = run(on_example(&["list"]), 0);
    assert_eq!(lines.len(), piped.lines().count() + 3, "{text}");
    for key in ["ranker-v2", "fraud-model-v7", "search-kill-switch"] {
        assert!(text.contains(key), "{key} missing:\n{text}");
    }
    assert!(
        text.contains("removal-overdue") && text.contains("in 6 days"),
        "{text}"
    );
}

#[test]
fn list_in_a_wide_terminal_shows_every_column_whole() {
    let text = in_terminal(200, &["list"]);
    let header = text.lines().nth(1).unwrap();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        ["KEY", "SERVICE", "KIND", "OWNER", "STATUS", "DUE", "WHEN"]
    );
    assert!(text.contains("ranker-diversity-threshold"), "{text}");
    assert!(!text.contains('…'), "{text}");
}

#[test]
fn list_colours_the_statuses_that_need_action_only_with_colour_on() {
    let red = |status: &str| format!("\u{1b}[38;5;9m{status}");
    let yellow = |status: &str| format!("\u{1b}[38;5;11m{status}");
    let (coloured, _) = run(on_example(&["--color", "always", "list"]), 0);
    for status in ["expired", "removal-overdue", "review-overdue"] {
        assert!(coloured.contains(&red(status)), "{status}:\n{coloured}");
    }
    for status in ["expiring-soon", "review-due-soon"] {
        assert!(coloured.contains(&yellow(status)), "{status}:\n{coloured}");
    }
    for status in ["live", "concluded", "disabled"] {
        assert!(
            !coloured.contains(&format!("m{status}")),
            "{status}:\n{coloured}"
        );
    }
    for args in [&["--color", "never", "list"][..], &["list"][..]] {
        let (plain, _) = run(on_example(args), 0);
        assert!(!plain.contains('\u{1b}'), "{args:?}:\n{plain}");
    }
}

#[test]
fn list_status_takes_several_values() {
    let wanted = [
        "fraud-model-v7",
        "ranker-calibration",
        "ranker-diversity-threshold",
    ];
    assert_eq!(
        listed(&["--status", "expired,review-overdue,removal-overdue"]),
        wanted
    );
    assert_eq!(
        listed(&[
            "--status",
            "expired",
            "--status",
            "review-overdue",
            "--status",
            "removal-overdue"
        ]),
        wanted
    );
    // Archived flags come with the others when asked for.
    assert_eq!(
        listed(&["--status", "archived,expired"]),
        ["ranker-v1-warmup", "ranker-calibration"]
    );
}

#[test]
fn list_sorts_by_due_key_service_or_status() {
    let search = ["--service", "search"];
    // Default: by path.
    assert_eq!(
        listed(&search),
        [
            "search-embeddings-v3",
            "search-kill-switch",
            "search-spellcheck-model"
        ]
    );
    assert_eq!(
        listed(&[&search[..], &["--sort", "due"]].concat()),
        [
            "search-spellcheck-model",
            "search-kill-switch",
            "search-embeddings-v3"
        ]
    );
    assert_eq!(
        listed(&[&search[..], &["--sort", "status"]].concat()),
        [
            "search-embeddings-v3",
            "search-kill-switch",
            "search-spellcheck-model"
        ]
    );
    let keys = listed(&["--sort", "key"]);
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let (by_service, _) = run(on_example(&["list", "--sort", "service"]), 0);
    let services: Vec<&str> = by_service
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert!(services.is_sorted(), "{by_service}");
    let (overdue_first, _) = run(
        on_example(&["list", "--sort", "status", "--format", "json"]),
        0,
    );
    let json: Value = serde_json::from_str(&overdue_first).unwrap();
    assert_eq!(json["flags"][0]["status"], "expired");
    on_example(&["list", "--sort", "owner"]).assert().code(2);
}

#[test]
fn list_filters_that_match_nothing_suggest_the_nearest_value() {
    let (text, stderr) = run(on_example(&["list", "--service", "serach"]), 0);
    assert!(text.is_empty());
    assert!(
        stderr.contains("no flag has service `serach` (did you mean `search`?)"),
        "{stderr}"
    );
    let (_, stderr) = run(on_example(&["list", "--owner", "team-serch"]), 0);
    assert!(
        stderr.contains("no flag has owner `team-serch` (did you mean `team-search`?)"),
        "{stderr}"
    );
    let (_, stderr) = run(on_example(&["list", "--kind", "experment"]), 2);
    assert!(stderr.contains("did you mean `experiment`?"), "{stderr}");
    let (_, stderr) = run(on_example(&["list", "--status", "expird"]), 2);
    assert!(stderr.contains("'expired'"), "{stderr}");
    // Each filter matches flags, but not together: nothing to suggest.
    let (_, stderr) = run(
        on_example(&["list", "--service", "search", "--kind", "regulatory"]),
        0,
    );
    assert_eq!(stderr.trim(), "no flags match");
}

#[test]
fn list_says_which_value_no_flag_has_though_it_is_valid() {
    let repo = TestRepo::initialised();
    repo.write("flagctl.toml", "[owners.me]\n[owners.idle]\n");
    repo.write(
        "flags/a/late.toml",
        &experiment("me", "2026-11-01", "2026-11-20"),
    );
    let (_, stderr) = run(repo.flagctl(&["list", "--status", "expiring-soon"]), 0);
    assert_eq!(
        stderr.trim(),
        "no flags match: no flag has status `expiring-soon`"
    );
    let (_, stderr) = run(repo.flagctl(&["list", "--owner", "idle"]), 0);
    assert_eq!(stderr.trim(), "no flags match: no flag has owner `idle`");
}

// ---- show -----------------------------------------------------------------------------

#[test]
fn show_keeps_the_variants_in_file_order() {
    let (text, _) = run(on_example(&["show", "fraud-score-threshold"]), 0);
    let variants: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "variants")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(variants, ["strict", "standard", "lenient"], "{text}");
    let (json, _) = run(
        on_example(&["show", "fraud-score-threshold", "--format", "json"]),
        0,
    );
    let at = |name: &str| json.find(&format!("\"{name}\":")).unwrap();
    assert!(
        at("strict") < at("standard") && at("standard") < at("lenient"),
        "{json}"
    );
    let parsed: Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<&String> = parsed["variants"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["strict", "standard", "lenient"]);
}

#[test]
fn show_gives_the_archived_date_and_commit() {
    let (text, _) = run(on_example(&["show", "ranker-v1-warmup"]), 0);
    assert!(
        predicate::str::is_match(
            r"archived +2026-09-10 \(76 days ago\) — last served by commit 4f6c2a91d0b3e8f7a2c5d1e9b8a7f6c5d4e3b2a1"
        )
        .unwrap()
        .eval(&text),
        "{text}"
    );
    let (json, _) = run(
        on_example(&["show", "ranker-v1-warmup", "--format", "json"]),
        0,
    );
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["archived"]["date"], "2026-09-10");
    assert_eq!(
        json["archived"]["commit"],
        "4f6c2a91d0b3e8f7a2c5d1e9b8a7f6c5d4e3b2a1"
    );
    let (live, _) = run(on_example(&["show", "ranker-v2", "--format", "json"]), 0);
    let live: Value = serde_json::from_str(&live).unwrap();
    assert_eq!(live["archived"], Value::Null);
}

// ---- audit --quiet and --statistics ---------------------------------------------------

/// A repository of `services` × 20 experiments created on 2026-11-01 that expire from
/// 2026-11-10 to 2026-11-30: on 2026-11-25, thousands expired or expiring soon.
fn big_repo(services: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flagctl.toml"), "").unwrap();
    for s in 0..services {
        let folder = dir.path().join(format!("flags/svc-{s:03}"));
        std::fs::create_dir_all(&folder).unwrap();
        let owner = format!("team-{}@example.com", s % 50);
        for f in 0..20 {
            let expires = format!("2026-11-{:02}", 10 + (s + f) % 21);
            let text = experiment(&owner, "2026-11-01", &expires);
            std::fs::write(folder.join(format!("svc-{s:03}-flag-{f:02}.toml")), text).unwrap();
        }
    }
    dir
}

fn audit_of(dir: &std::path::Path, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--repo", dir.to_str().unwrap(), "audit"];
    all.extend_from_slice(args);
    common::flagctl(&all)
}

#[test]
fn quiet_and_statistics_keep_an_audit_of_10000_flags_short() {
    let dir = big_repo(500);
    let (full, _) = run(audit_of(dir.path(), &[]), 1);
    assert!(full.lines().count() > 10_000);
    let summary = full.lines().last().unwrap();
    assert_eq!(summary, "7140 errors, 2860 warnings in 10000 flag files");

    let (quiet, stderr) = run(audit_of(dir.path(), &["--quiet"]), 1);
    assert_eq!(quiet, format!("{summary}\n"));
    assert_eq!(stderr, "", "--quiet prints no notes");

    let (statistics, stderr) = run(audit_of(dir.path(), &["--statistics"]), 1);
    assert!(stderr.contains("note: not a git repository"), "{stderr}");
    let lines: Vec<&str> = statistics.lines().collect();
    assert_eq!(lines.len(), 5, "{statistics}");
    let counts: Vec<Vec<&str>> = lines[1..3]
        .iter()
        .map(|l| l.split_whitespace().take(3).collect())
        .collect();
    assert_eq!(
        counts,
        [
            ["7140", "expired", "error"],
            ["2860", "expiring-soon", "warning"]
        ]
    );
    assert_eq!(lines[3], "");
    assert_eq!(lines[4], summary);
}

#[test]
fn quiet_leaves_the_machine_formats_whole() {
    for format in ["json", "github", "sarif", "junit"] {
        let (full, _) = run(on_example(&["audit", "--format", format]), 1);
        let (quiet, _) = run(on_example(&["audit", "--quiet", "--format", format]), 1);
        assert_eq!(quiet, full, "{format}");
    }
    let (_, stderr) = run(
        on_example(&["audit", "--statistics", "--format", "json"]),
        2,
    );
    assert!(stderr.contains("--statistics"), "{stderr}");
    on_example(&["audit", "--quiet", "--statistics"])
        .assert()
        .code(2);
}

#[test]
fn quiet_and_statistics_of_a_clean_repository() {
    let repo = TestRepo::initialised();
    repo.write(
        "flags/a/fine.toml",
        &experiment("me@example.com", "2026-11-20", "2026-12-15"),
    );
    for flag in ["--quiet", "--statistics"] {
        let (text, _) = run(repo.flagctl(&["audit", flag]), 0);
        assert_eq!(text, "1 flag file checked: no findings\n", "{flag}");
    }
}

// ---- simulate -------------------------------------------------------------------------

#[test]
fn simulate_names_both_sources_of_contexts() {
    let (_, stderr) = run(on_example(&["simulate", "ranker-v2"]), 2);
    assert!(
        stderr.contains("give --contexts FILE or --sample N"),
        "{stderr}"
    );
}

#[test]
fn simulate_refuses_an_empty_sample() {
    let (_, stderr) = run(on_example(&["simulate", "ranker-v2", "--sample", "0"]), 2);
    assert!(stderr.contains("1..=10000000"), "{stderr}");
    run(
        on_example(&["simulate", "ranker-v2", "--sample", "1", "--seed", "1"]),
        0,
    );
}

#[test]
fn simulate_shows_the_syntax_of_an_attribute_without_values() {
    let (_, stderr) = run(
        on_example(&[
            "simulate",
            "ranker-v2",
            "--sample",
            "10",
            "--attr",
            "country",
        ]),
        2,
    );
    assert!(
        stderr.contains("use `country=v1,v2` (strings) or `country:=[JSON, …]` (typed)"),
        "{stderr}"
    );
}

// ---- service-limit --------------------------------------------------------------------

#[test]
fn service_limit_help_names_the_service() {
    let repo = TestRepo::initialised();
    repo.write(
        "flagctl.toml",
        "[services.\"search.v2\"]\nmax_flags = 1\n[services.small]\nmax_flags = 1\n",
    );
    for (service, key) in [
        ("small", "a"),
        ("small", "b"),
        ("search.v2", "c"),
        ("search.v2", "d"),
    ] {
        repo.write(
            &format!("flags/{service}/{key}.toml"),
            &experiment("me@example.com", "2026-11-20", "2026-12-15"),
        );
    }
    let (json, _) = run(repo.flagctl(&["audit", "--format", "json"]), 1);
    let json: Value = serde_json::from_str(&json).unwrap();
    let helps: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "service-limit")
        .map(|f| f["help"].as_str().unwrap())
        .collect();
    assert_eq!(
        helps,
        [
            "archive concluded and unused flags first (`flagctl list --service search.v2`), or raise `max_flags` under [services.\"search.v2\"] with a reason",
            "archive concluded and unused flags first (`flagctl list --service small`), or raise `max_flags` under [services.small] with a reason",
        ]
    );
}
