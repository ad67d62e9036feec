//! One vocabulary: on the same day, `show`, `list`, `audit` and `remind` call a flag's
//! state by the same name (the audit rule's) and its next date by the same words.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestRepo;
use serde_json::Value;

/// The statuses that an audit rule of the same name reports.
const RULED: [&str; 5] = [
    "expired",
    "expiring-soon",
    "review-overdue",
    "review-due-soon",
    "removal-overdue",
];

/// Days on which the example repository shows every status it can, and every kind of
/// relative day: "today", "tomorrow", "in N days", "N days ago".
const DAYS: [&str; 3] = ["2026-11-25", "2026-11-29", "2026-12-02"];

/// `flagctl --repo <example> --as-of DAY ARGS…` on stdout, which must be JSON when
/// `--format json` is asked for.
fn run(day: &str, args: &[&str]) -> String {
    let example = common::example_repo();
    let mut full = vec!["--repo", example.to_str().unwrap(), "--as-of", day];
    full.extend_from_slice(args);
    let out = common::flagctl(&full)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(day: &str, args: &[&str]) -> Value {
    let text = run(day, &[args, &["--format", "json"]].concat());
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["schema"], 1, "{args:?}");
    assert_eq!(value["as_of"], day, "{args:?}");
    value
}

/// What `list --format json` says of each flag: status, due date, relative day.
fn listed(day: &str, args: &[&str]) -> BTreeMap<String, Value> {
    json(day, &[&["list"], args].concat())["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap().to_string(), f.clone()))
        .collect()
}

/// The lifecycle findings of `audit --format json`, by flag: (rule, message).
fn audited(day: &str) -> BTreeMap<String, (String, String)> {
    let mut by_flag = BTreeMap::new();
    for finding in json(day, &["audit"])["findings"].as_array().unwrap() {
        let rule = finding["rule"].as_str().unwrap();
        if RULED.contains(&rule) {
            let flag = finding["flag"].as_str().unwrap().to_string();
            let message = finding["message"].as_str().unwrap().to_string();
            let previous = by_flag.insert(flag.clone(), (rule.to_string(), message));
            assert_eq!(previous, None, "one deadline finding per flag: {flag}");
        }
    }
    by_flag
}

/// The actions of `remind --format json` about one flag, by flag.
fn reminded(day: &str, within: &str) -> BTreeMap<String, Value> {
    let mut by_flag = BTreeMap::new();
    for digest in json(day, &["remind", "--within", within])["digests"]
        .as_array()
        .unwrap()
    {
        for action in digest["actions"].as_array().unwrap() {
            if let Some(flag) = action["flag"].as_str() {
                by_flag.insert(flag.to_string(), action.clone());
            }
        }
    }
    by_flag
}

#[test]
fn every_command_calls_a_state_by_one_name_and_a_day_by_one_phrase() {
    let mut statuses = BTreeSet::new();
    let mut phrases = BTreeSet::new();
    for day in DAYS {
        let flags = listed(day, &[]);
        let findings = audited(day);
        let actions = reminded(day, "7");
        assert!(flags.len() >= 14, "{day}: {flags:?}");
        for (key, flag) in &flags {
            let status = flag["status"].as_str().unwrap();
            let relative = flag["due_relative"].as_str().unwrap();
            let (field, due) = (flag["due_field"].as_str().unwrap(), &flag["due"]);
            let context = format!("{key} on {day}: {status}, {field} {due} {relative}");
            statuses.insert(status.to_string());
            let words: Vec<&str> = relative
                .split(' ')
                .filter(|w| w.parse::<u32>().is_err())
                .collect();
            phrases.insert(words.join(" "));

            // show: the same status, and the date in the same words.
            let shown = run(day, &["show", key]);
            assert!(
                shown
                    .lines()
                    .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["status", status]),
                "{context}\n{shown}"
            );
            let dated = format!("{} ({relative})", due.as_str().unwrap());
            assert!(shown.contains(&dated), "{context}\n{shown}");

            // audit: the rule is the status, the message has the same words.
            match findings.get(key) {
                Some((rule, message)) => {
                    assert_eq!(rule, status, "{context}");
                    assert!(
                        message.ends_with(&format!("({relative})")),
                        "{context}: {message}"
                    );
                }
                None => assert!(!RULED.contains(&status), "{context}: no finding"),
            }

            // remind: the action is the status, in the audit's words.
            match actions.get(key) {
                Some(action) => {
                    assert_eq!(action["action"], status, "{context}");
                    assert_eq!(action["due_relative"], relative, "{context}");
                    assert_eq!(action["due"], *due, "{context}");
                    if let Some((_, message)) = findings.get(key) {
                        assert_eq!(action["message"], message.as_str(), "{context}");
                    }
                }
                None => {
                    let removal_soon =
                        status == "concluded" && flag["days_left"].as_i64() <= Some(7);
                    assert!(
                        !RULED.contains(&status) && !removal_soon,
                        "{context}: no reminder"
                    );
                }
            }
        }
    }
    let expected: BTreeSet<String> = [
        "live",
        "disabled",
        "concluded",
        "expired",
        "expiring-soon",
        "review-overdue",
        "review-due-soon",
        "removal-overdue",
    ]
    .map(String::from)
    .into();
    assert_eq!(statuses, expected);
    let expected: BTreeSet<String> = ["today", "tomorrow", "yesterday", "in days", "days ago"]
        .map(String::from)
        .into();
    assert_eq!(phrases, expected);
}

#[test]
fn an_archived_flag_is_archived_everywhere_and_owes_nothing() {
    for day in DAYS {
        let archived = listed(day, &["--status", "archived"]);
        let keys: Vec<&String> = archived.keys().collect();
        assert_eq!(keys, ["ranker-v1-warmup"], "{day}");
        assert_eq!(archived["ranker-v1-warmup"]["status"], "archived");
        assert!(!audited(day).contains_key("ranker-v1-warmup"));
        assert!(!reminded(day, "400").contains_key("ranker-v1-warmup"));
        let shown = run(day, &["show", "ranker-v1-warmup"]);
        assert!(shown.contains("status        archived"), "{shown}");
    }
}

#[test]
fn remind_widens_soon_to_its_window_with_the_same_names() {
    let day = "2026-11-25";
    let flags = listed(day, &[]);
    let actions = reminded(day, "40");
    // Beyond warn_days, list calls these live; remind, looking 40 days ahead, calls them
    // what list will call them once they are within warn_days.
    for (key, name) in [
        ("recsys-two-tower-v2", "expiring-soon"),
        ("fraud-score-threshold", "review-due-soon"),
    ] {
        assert_eq!(flags[key]["status"], "live");
        assert_eq!(actions[key]["action"], name, "{key}");
        assert_eq!(actions[key]["due_relative"], flags[key]["due_relative"]);
    }
    assert!(
        !actions.contains_key("fraud-kill-switch"),
        "review in 66 days"
    );
}

#[test]
fn an_unknown_status_lists_the_statuses() {
    let repo = TestRepo::initialised();
    let out = repo
        .flagctl(&["list", "--status", "expiring"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("expiring-soon") && stderr.contains("removal-overdue"),
        "{stderr}"
    );
}
