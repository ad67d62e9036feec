//! End-to-end tests of the lifecycle commands and `remind`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use common::TestRepo;
use predicates::prelude::*;
use serde_json::Value;

const EXPERIMENT: &str = "# Ranker v2 against v1, see ML-123.\ndescription = \"ranker v2\"\nkind = \"experiment\"\n\
owner = \"ml@example.com\"\ncreated = 2026-11-01\nexpires = 2026-11-20 # keep short\ndefault = \"baseline\"\n\n\
[variants]\nbaseline = \"v1\"\ncandidate = \"v2\" # the new model\n";

const SWITCH: &str = "description = \"kill the ranker\"\nkind = \"kill-switch\"\nowner = \"ml@example.com\"\n\
created = 2026-09-01\nreview_by = 2026-11-30\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n";

const DEPENDANT: &str = "description = \"needs the switch\"\nkind = \"experiment\"\nowner = \"ml@example.com\"\n\
created = 2026-11-10\nexpires = 2026-12-01\nrequires = [{ flag = \"ranker-switch\", variant = \"on\" }]\ndefault = \"a\"\n\n[variants]\na = 1\nb = 2\n";

fn repo() -> TestRepo {
    let repo = TestRepo::initialised();
    repo.write("flags/ranking/ranker-v2.toml", EXPERIMENT);
    repo.write("flags/ranking/ranker-switch.toml", SWITCH);
    repo.write("flags/ranking/ranker-canary.toml", DEPENDANT);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "flags"]);
    repo
}

#[test]
fn expire_records_the_conclusion_and_commits_only_the_flag() {
    let repo = repo();
    repo.flagctl(&[
        "expire",
        "ranker-v2",
        "--winner",
        "candidate",
        "--results",
        "AUC +0.8%, p=0.01",
        "--as-of",
        "2026-11-20",
    ])
    .assert()
    .success();
    let text = repo.read("flags/ranking/ranker-v2.toml");
    assert!(
        text.starts_with("# Ranker v2 against v1, see ML-123.\n"),
        "{text}"
    );
    assert!(
        text.contains("expires = 2026-11-20 # keep short\n")
            && text.contains("candidate = \"v2\" # the new model\n"),
        "{text}"
    );
    assert!(
        text.ends_with("[conclusion]\ndate = 2026-11-20\nwinner = \"candidate\"\nremove_by = 2026-12-20\nresults = \"AUC +0.8%, p=0.01\"\n"),
        "{text}"
    );
    let message = repo.last_commit_message();
    assert!(
        message.starts_with("flagctl expire: ranker-v2\n\nWinner: candidate\n\nAUC +0.8%, p=0.01"),
        "{message}"
    );
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"])
            .trim(),
        "flags/ranking/ranker-v2.toml"
    );
    // A concluded flag is never expired, even long after.
    let out = repo
        .flagctl(&["audit", "--format", "json", "--as-of", "2026-12-01"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["flag"] != "ranker-v2"),
        "{json}"
    );
}

#[test]
fn expire_refuses_bad_input_and_changes_nothing() {
    let repo = repo();
    let before = repo.read("flags/ranking/ranker-v2.toml");
    let expire = |key, winner| {
        repo.flagctl(&["--as-of", "2026-11-25", "expire", key, "--winner", winner])
            .assert()
            .code(2)
    };
    expire("ranker-v2", "champion")
        .stderr(predicate::str::contains("variants: baseline, candidate"));
    expire("ranker-switch", "on").stderr(predicate::str::contains("permanent"));
    expire("ranker-v9", "on").stderr(predicate::str::contains("did you mean `ranker-v2`"));
    assert_eq!(repo.read("flags/ranking/ranker-v2.toml"), before);
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn review_moves_the_review_date() {
    let repo = repo();
    repo.flagctl(&[
        "review",
        "ranker-switch",
        "--note",
        "still needed",
        "--as-of",
        "2026-11-25",
    ])
    .assert()
    .success();
    let text = repo.read("flags/ranking/ranker-switch.toml");
    assert!(
        text.contains("reviewed = 2026-11-25\nreview_by = 2027-02-23\n"),
        "{text}"
    );
    assert!(
        repo.last_commit_message()
            .starts_with("flagctl review: ranker-switch\n\nstill needed")
    );
}

#[test]
fn extend_stays_within_the_maximum_unless_forced() {
    let repo = repo();
    let before = repo.read("flags/ranking/ranker-v2.toml");
    repo.flagctl(&[
        "extend",
        "ranker-v2",
        "--until",
        "2026-12-05",
        "--reason",
        "more data",
        "--as-of",
        "2026-11-18",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("past 2026-12-01"));
    assert_eq!(repo.read("flags/ranking/ranker-v2.toml"), before);
    assert_eq!(repo.commit_count(), 2);
    repo.flagctl(&[
        "extend",
        "ranker-v2",
        "--until",
        "2026-11-30",
        "--reason",
        "traffic dip in week 2",
        "--as-of",
        "2026-11-18",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("expires 2026-11-20 → 2026-11-30"));
    assert!(
        repo.read("flags/ranking/ranker-v2.toml")
            .contains("expires = 2026-11-30 # keep short")
    );
    assert!(repo.last_commit_message().contains("traffic dip in week 2"));
    repo.flagctl(&[
        "extend",
        "ranker-v2",
        "--until",
        "2026-12-05",
        "--reason",
        "holiday",
        "--force",
        "--as-of",
        "2026-11-18",
    ])
    .assert()
    .success();
}

#[test]
fn kill_and_restore() {
    let repo = repo();
    repo.flagctl(&["kill", "ranker-switch", "--reason", "INC-42 scores drift"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ranker-canary fall back"));
    assert!(
        repo.read("flags/ranking/ranker-switch.toml")
            .contains("state = \"disabled\"")
    );
    assert!(
        repo.last_commit_message()
            .starts_with("flagctl kill: ranker-switch\n\nINC-42 scores drift")
    );
    repo.flagctl(&["kill", "ranker-switch", "--reason", "again"])
        .assert()
        .code(2);
    repo.flagctl(&["restore", "ranker-switch"])
        .assert()
        .success();
    assert_eq!(repo.read("flags/ranking/ranker-switch.toml"), SWITCH);
}

#[test]
fn steps_refuse_dirty_files_and_other_staged_changes() {
    let repo = repo();
    repo.write(
        "flags/ranking/ranker-v2.toml",
        &format!("{EXPERIMENT}# local edit\n"),
    );
    repo.flagctl(&["kill", "ranker-v2", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("uncommitted changes"));
    assert!(
        repo.read("flags/ranking/ranker-v2.toml")
            .ends_with("# local edit\n")
    );
    repo.git(&["checkout", "--", "."]);
    repo.write("README.md", "notes\n");
    repo.git(&["add", "README.md"]);
    repo.flagctl(&["kill", "ranker-v2", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("README.md"));
    assert_eq!(repo.read("flags/ranking/ranker-v2.toml"), EXPERIMENT);
}

#[test]
fn a_failed_commit_changes_nothing() {
    let repo = repo();
    // Another git process holds the branch: the commit cannot be made.
    std::fs::write(repo.path().join(".git/refs/heads/main.lock"), "").unwrap();
    repo.flagctl(&["kill", "ranker-switch", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing was changed"));
    std::fs::remove_file(repo.path().join(".git/refs/heads/main.lock")).unwrap();
    assert_eq!(repo.read("flags/ranking/ranker-switch.toml"), SWITCH);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn dates_past_the_toml_range_are_refused() {
    let repo = repo();
    repo.flagctl(&[
        "expire",
        "ranker-v2",
        "--winner",
        "candidate",
        "--as-of",
        "9999-12-20",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("9999-12-31"));
    assert_eq!(repo.read("flags/ranking/ranker-v2.toml"), EXPERIMENT);
}

#[test]
fn archive_wants_a_temporary_flag_concluded_first() {
    let repo = repo();
    repo.flagctl(&["archive", "ranker-v2", "--as-of", "2026-11-25"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "flagctl expire KEY --winner VARIANT",
        ));
    assert_eq!(repo.read("flags/ranking/ranker-v2.toml"), EXPERIMENT);
    assert!(!repo.path().join("flags/_archive").exists());
    repo.flagctl(&[
        "expire",
        "ranker-v2",
        "--winner",
        "candidate",
        "--as-of",
        "2026-10-20",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("before the flag was created"));
}

#[test]
fn archive_moves_the_flag_and_breaks_its_dependants_only_with_force() {
    let repo = repo();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let archive = [
        "archive",
        "ranker-switch",
        "--results",
        "replaced by the v3 fallback",
        "--as-of",
        "2026-11-25",
    ];
    repo.flagctl(&archive)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "ranker-canary require `ranker-switch`",
        ));
    assert_eq!(repo.git(&["rev-parse", "HEAD"]).trim(), head);
    repo.flagctl(&[&archive[..], &["--force"]].concat())
        .assert()
        .success()
        .stderr(predicate::str::contains("ranker-canary still require"));
    assert!(
        !repo
            .path()
            .join("flags/ranking/ranker-switch.toml")
            .exists()
    );
    let text = repo.read("flags/_archive/ranking/ranker-switch.toml");
    assert!(text.contains(&format!("[archived]\ndate = 2026-11-25\ncommit = \"{head}\"\nresults = \"replaced by the v3 fallback\"\n")), "{text}");
    let status = repo.git(&["show", "-M", "--name-status", "--format=", "HEAD"]);
    assert!(
        status.starts_with("R"),
        "one rename git can follow: {status}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let out = repo
        .flagctl(&["audit", "--format", "json", "--as-of", "2026-11-25"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "missing-dependency")
        .collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["flag"], "ranker-canary");
    assert!(missing[0]["message"].as_str().unwrap().contains("archived"));
    repo.flagctl(&["kill", "ranker-switch", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("archived"));
}

/// A one-request-at-a-time HTTP server on 127.0.0.1 that records request bodies.
fn webhook_server(requests: usize) -> (String, std::thread::JoinHandle<Vec<Value>>) {
    webhook_server_replying(
        requests,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    )
}

/// As [`webhook_server`], answering every request with `reply`.
fn webhook_server_replying(
    requests: usize,
    reply: &'static [u8],
) -> (String, std::thread::JoinHandle<Vec<Value>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut agent = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if let Some(v) = lower.strip_prefix("user-agent:") {
                    agent = v.trim().to_string();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut body: Value = serde_json::from_slice(&body).unwrap();
            body["received_user_agent"] = agent.into();
            bodies.push(body);
            stream.write_all(reply).unwrap();
        }
        bodies
    });
    (url, handle)
}

fn remind_repo() -> TestRepo {
    let repo = repo();
    repo.write(
        "flags/search/other-owner.toml",
        &EXPERIMENT.replace("ml@example.com", "search@example.com"),
    );
    repo
}

/// `remind --format json --within DAYS` on 2026-11-25.
fn remind_json(repo: &TestRepo, within: &str) -> Value {
    let out = repo
        .flagctl(&["remind", "--format", "json", "--within", within])
        .args(["--as-of", "2026-11-25"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn remind_posts_one_digest_per_owner() {
    let repo = remind_repo();
    let (url, server) = webhook_server(2);
    let out = repo
        .flagctl(&["remind", "--webhook", &url, "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["delivered"], 2, "{report}");
    assert_eq!(report["deliveries"][0]["status"], 200, "{report}");
    assert_eq!(report["deliveries"][0]["response"], "ok", "{report}");
    repo.flagctl(&["remind", "--webhook", "notaurl", "--as-of", "2026-11-25"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an http:// or https:// URL"));
    let bodies = server.join().unwrap();
    assert!(
        bodies[0]["received_user_agent"]
            .as_str()
            .unwrap()
            .starts_with("flagctl/"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("*flagctl: "),
        "Slack bold: {}",
        bodies[0]["text"]
    );
    let owners: Vec<&str> = bodies
        .iter()
        .map(|b| b["owner"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["ml@example.com", "search@example.com"]);
    assert!(
        bodies[0]["text"]
            .as_str()
            .unwrap()
            .contains("ranker-v2: experiment expired on 2026-11-20 (5 days ago)")
    );
    assert_eq!(
        (&bodies[0]["schema"], &bodies[0]["as_of"]),
        (&Value::from(1), &Value::from("2026-11-25"))
    );
    let actions: Vec<&str> = bodies[0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["expired", "review-due-soon", "expiring-soon"]);
}

#[test]
fn remind_reports_an_unreachable_webhook() {
    let repo = remind_repo();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    repo.flagctl(&[
        "remind",
        "--webhook",
        &format!("http://127.0.0.1:{port}/hook"),
        "--timeout",
        "2",
        "--as-of",
        "2026-11-25",
    ])
    .assert()
    .code(1)
    .stdout(
        predicate::str::contains("failed: ml@example.com")
            .and(predicate::str::contains("failed: search@example.com")),
    );
}

#[test]
fn remind_prints_digests_in_each_format() {
    let repo = remind_repo();
    let json = remind_json(&repo, "10");
    assert_eq!(json["within_days"], 10);
    let first = &json["digests"][0];
    assert_eq!(first["owner"], "ml@example.com");
    assert_eq!(
        first["actions"].as_array().unwrap().len(),
        3,
        "expired, review due, dependant expiring: {first}"
    );
    repo.flagctl(&["remind", "--format", "markdown", "--as-of", "2026-11-25"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "- `expired` ranker-v2: experiment expired on 2026-11-20 (5 days ago)",
        ));
}

#[test]
fn remind_tells_every_owner_of_a_crowded_service_and_skips_rules_that_are_off() {
    let repo = TestRepo::initialised();
    repo.write(
        "flagctl.toml",
        "[policy]\nmax_flags_per_service = 2\n[severity]\nreview-due-soon = \"off\"\n",
    );
    let experiment = |owner: &str, created: &str| {
        EXPERIMENT
            .replace("ml@example.com", owner)
            .replace("2026-11-01", created)
            .replace("2026-11-20", "2026-12-20")
    };
    repo.write("flags/s/a.toml", &experiment("x@example.com", "2026-11-01"));
    repo.write("flags/s/b.toml", &experiment("y@example.com", "2026-11-02"));
    repo.write("flags/s/c.toml", &experiment("y@example.com", "2026-11-10"));
    repo.write(
        "flags/t/switch.toml",
        &SWITCH.replace("ml@example.com", "x@example.com"),
    );
    let json = remind_json(&repo, "10");
    let digests: Vec<(&str, Vec<(&str, &str)>)> = json["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let actions = d["actions"].as_array().unwrap().iter();
            let actions =
                actions.map(|a| (a["action"].as_str().unwrap(), a["flag"].as_str().unwrap()));
            (d["owner"].as_str().unwrap(), actions.collect())
        })
        .collect();
    assert_eq!(
        digests,
        [
            ("x@example.com", vec![("service-limit", "c")]),
            ("y@example.com", vec![("service-limit", "c")]),
        ],
        "the switch's review is due in 5 days, but review-due-soon is off"
    );
}

#[test]
fn remind_counts_a_redirect_as_a_failure_and_keeps_the_url_secret() {
    let repo = remind_repo();
    let (url, server) = webhook_server_replying(
        2,
        b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
    let secret_url = url.replace("http://", "http://user:hunter2@") + "/T000/B000/XXXX?token=abc";
    let out = repo
        .flagctl(&["remind", "--webhook", &secret_url, "--as-of", "2026-11-25"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("does not follow redirects"), "{text}");
    assert!(text.contains("0 of 2 digests delivered"), "{text}");
    for secret in ["hunter2", "user:", "T000", "token=abc"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(
        server.join().unwrap().len(),
        2,
        "both digests were posted once"
    );
}
