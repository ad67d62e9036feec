//! `report`, removal readiness and the bulk actions of a cleanup review, end to end, on a
//! generated repository with six months of history: flags created, extended, rolled out,
//! concluded and archived, read by Python and TypeScript code.

mod common;

use std::collections::BTreeMap;

use common::TestRepo;
use serde_json::Value;

const CONFIG: &str = r#"
[policy]
warn_days = 7
removal_grace_days = 30

[kinds.experiment]
temporary = true
max_days = 120
[kinds.release]
temporary = true
max_days = 120
[kinds.kill-switch]
review_days = 90

[owners.team-a]
contact = "a@example.com"
[owners.team-b]
contact = "b@example.com"

[refs]
paths = ["services"]

[cleanup]
min_age_days = 30
stable_days = 7
"#;

const SPLIT: &str = "\n[[rules]]\nname = \"ab\"\nrollout = [{ variant = \"on\", weight = 50 }, { variant = \"off\", weight = 50 }]\n";

/// A rollout of `on` to `percent` of everyone.
fn canary(percent: u32) -> String {
    format!(
        "\n[[rules]]\nname = \"canary\"\nrollout = [{{ variant = \"on\", weight = {percent} }}, {{ variant = \"off\", weight = {} }}]\n",
        100 - percent
    )
}

/// A flag file: `head` holds the dates (and any other top-level keys).
fn flag(kind: &str, owner: &str, head: &str, rules: &str) -> String {
    format!(
        "description = \"{kind} of {owner}\"\nkind = \"{kind}\"\nowner = \"{owner}\"\n{head}\ndefault = \"off\"\n\n\
         [variants]\noff = false\non = true\n{rules}"
    )
}

fn conclusion(date: &str, remove_by: &str) -> String {
    format!("\n[conclusion]\ndate = {date}\nwinner = \"on\"\nremove_by = {remove_by}\n")
}

const PYTHON: &str = r#"from openfeature import api

client = api.get_client()

def rank(user):
    if client.get_boolean_value("done-used", False, user):
        return "v2"
    if client.get_boolean_value("stale", False, user):
        return "v1"
    return client.get_boolean_value("archived-ref", False, user)
"#;

const TYPESCRIPT: &str = r#"import { OpenFeature } from "@openfeature/web-sdk";
const client = OpenFeature.getClient();
export const useNew = client.getBooleanValue("done-used", false);
export const launchedUi = client.getBooleanValue("just-launched", false);
export const splitUi = client.getBooleanValue("running", false);
"#;

/// Six months of a flag repository, committed on the days things happened; on
/// 2026-11-25 it has a flag in every state of removal readiness.
fn cleanup_repo() -> TestRepo {
    let repo = TestRepo::new();
    let write = |key: &str, text: &str| repo.write(&format!("flags/svc/{key}.toml"), text);
    let archive = |key: &str, text: &str| {
        std::fs::remove_file(repo.path().join(format!("flags/svc/{key}.toml"))).unwrap();
        repo.write(&format!("flags/_archive/svc/{key}.toml"), text);
    };
    repo.write("flagctl.toml", CONFIG);
    let old = flag(
        "experiment",
        "team-a",
        "created = 2026-05-20\nexpires = 2026-07-19",
        SPLIT,
    );
    write("old-exp", &old);
    repo.commit_all_at("init", "2026-05-20");
    let old = old + &conclusion("2026-06-15", "2026-07-15");
    write("old-exp", &old);
    repo.commit_all_at("conclude old-exp", "2026-06-15");
    archive(
        "old-exp",
        &format!("{old}\n[archived]\ndate = 2026-07-01\n"),
    );
    repo.commit_all_at("archive old-exp", "2026-07-01");

    let referenced = flag(
        "release",
        "team-b",
        "created = 2026-07-10\nexpires = 2026-09-10",
        &canary(100),
    );
    write("archived-ref", &referenced);
    repo.commit_all_at("create archived-ref", "2026-07-10");
    archive(
        "archived-ref",
        &format!(
            "{referenced}{}\n[archived]\ndate = 2026-08-01\n",
            conclusion("2026-08-01", "2026-08-31")
        ),
    );
    let stale = flag(
        "experiment",
        "team-a",
        "created = 2026-08-01\nexpires = 2026-10-30",
        SPLIT,
    );
    write("stale", &stale);
    repo.commit_all_at("archive archived-ref, create stale", "2026-08-01");

    let rolled = |expires: &str, percent: u32| {
        flag(
            "release",
            "team-a",
            &format!("created = 2026-08-15\nexpires = {expires}"),
            &canary(percent),
        )
    };
    write("rolled-out", &rolled("2026-09-14", 10));
    repo.commit_all_at("create rolled-out", "2026-08-15");

    let done_unused = flag(
        "experiment",
        "team-a",
        "created = 2026-09-01\nexpires = 2026-10-01",
        SPLIT,
    );
    write("done-unused", &done_unused);
    repo.commit_all_at("create done-unused", "2026-09-01");

    let done_used = flag(
        "release",
        "team-b",
        "created = 2026-09-10\nexpires = 2026-11-20",
        &canary(20),
    );
    write("done-used", &done_used);
    repo.write("services/api/app.py", PYTHON);
    repo.write("services/web/flags.ts", TYPESCRIPT);
    write("rolled-out", &rolled("2026-12-10", 10));
    repo.commit_all_at(
        "create done-used and its code; extend rolled-out",
        "2026-09-10",
    );

    let needed = flag(
        "experiment",
        "team-b",
        "created = 2026-09-20\nexpires = 2026-12-01",
        SPLIT,
    );
    write("needed", &needed);
    write(
        "running",
        &flag(
            "experiment",
            "team-b",
            "created = 2026-09-20\nexpires = 2026-11-28\nrequires = [{ flag = \"needed\", variant = \"on\" }]",
            SPLIT,
        ),
    );
    repo.commit_all_at("create needed and running", "2026-09-20");
    write(
        "done-unused",
        &(done_unused + &conclusion("2026-09-28", "2026-10-28")),
    );
    repo.commit_all_at("conclude done-unused", "2026-09-28");

    write(
        "just-launched",
        &flag(
            "experiment",
            "team-b",
            "created = 2026-10-01\nexpires = 2026-12-30",
            &canary(50),
        ),
    );
    write(
        "needed",
        &(needed + &conclusion("2026-10-01", "2026-10-31")),
    );
    repo.commit_all_at("create just-launched, conclude needed", "2026-10-01");
    write("rolled-out", &rolled("2026-12-10", 100));
    repo.commit_all_at("roll rolled-out out to everyone", "2026-10-20");
    write(
        "done-used",
        &(done_used + &conclusion("2026-11-01", "2026-12-01")),
    );
    repo.commit_all_at("conclude done-used", "2026-11-01");

    let young = flag(
        "experiment",
        "team-a",
        "created = 2026-11-10\nexpires = 2026-12-10",
        SPLIT,
    );
    write("young", &young);
    write(
        "switch",
        &flag(
            "kill-switch",
            "team-a",
            "created = 2026-09-01\nreview_by = 2026-11-20",
            "\n[[rules]]\nname = \"everyone\"\nserve = \"on\"\n",
        ),
    );
    repo.commit_all_at("create young and switch", "2026-11-10");
    write("young", &(young + &conclusion("2026-11-12", "2026-12-12")));
    repo.commit_all_at("conclude young", "2026-11-12");
    write(
        "just-launched",
        &flag(
            "experiment",
            "team-b",
            "created = 2026-10-01\nexpires = 2026-12-30",
            &canary(100),
        ),
    );
    repo.commit_all_at("roll just-launched out to everyone", "2026-11-22");
    repo
}

fn json(repo: &TestRepo, args: &[&str]) -> Value {
    let out = repo.flagctl(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stdout(repo: &TestRepo, args: &[&str]) -> String {
    let out = repo.flagctl(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `flag → "readiness: v v v v v v"`, the verdicts in check order (`+` pass, `-` fail,
/// `?` unknown).
fn verdicts(report: &Value) -> BTreeMap<String, String> {
    report["readiness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flag| {
            let marks: Vec<&str> = flag["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| match c["verdict"].as_str().unwrap() {
                    "pass" => "+",
                    "fail" => "-",
                    _ => "?",
                })
                .collect();
            (
                flag["flag"].as_str().unwrap().to_string(),
                format!(
                    "{}: {}",
                    flag["readiness"].as_str().unwrap(),
                    marks.join(" ")
                ),
            )
        })
        .collect()
}

fn reason(report: &Value, key: &str, check: &str) -> String {
    let flag = report["readiness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == key)
        .unwrap();
    let check = flag["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap();
    check["reason"].as_str().unwrap().to_string()
}

#[test]
fn readiness_verdicts_and_reasons_for_every_flag() {
    let repo = cleanup_repo();
    let report = json(&repo, &["report", "--refs", "--format", "json"]);
    // Checks: temporary, age, finished, stable, not-required, code.
    let expected: BTreeMap<String, String> = [
        ("done-unused", "ready-to-archive: + + + + + +"),
        ("rolled-out", "ready-to-archive: + + + + + +"),
        ("done-used", "ready-for-code-removal: + + + + + -"),
        ("just-launched", "not-ready: + + + - + -"),
        ("young", "not-ready: + - + + + +"),
        ("running", "not-ready: + + - + + -"),
        ("needed", "not-ready: + + + + - +"),
        ("stale", "not-ready: + + - + + -"),
        ("switch", "not-ready: - + + + + +"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(verdicts(&report), expected);

    let reasons = [
        (
            "done-unused",
            "finished",
            "concluded on 2026-09-28: serves `on` to everyone",
        ),
        (
            "rolled-out",
            "finished",
            "launched: rule `canary` rolls out `on` at 100%",
        ),
        (
            "running",
            "finished",
            "not concluded, and it serves 2 variants: `on`, `off`",
        ),
        (
            "young",
            "age",
            "created 2026-11-10, 15 days ago: younger than min_age_days (30)",
        ),
        (
            "done-unused",
            "age",
            "created 2026-09-01, 85 days ago (at least 30)",
        ),
        (
            "needed",
            "not-required",
            "required by `running`: archived, it would no longer serve it",
        ),
        ("done-unused", "code", "no code reads it"),
        (
            "done-used",
            "code",
            "read in 2 places of 2 files: services/api/app.py:6, services/web/flags.ts:3",
        ),
        (
            "switch",
            "temporary",
            "`kill-switch` is a permanent kind: it is retired by a decision, not when it is done",
        ),
        (
            "rolled-out",
            "stable",
            "no targeting change in the last 7 days; its file last changed on 2026-10-20",
        ),
    ];
    for (key, check, text) in reasons {
        assert_eq!(reason(&report, key, check), text, "{key} {check}");
    }
    let stable = reason(&report, "just-launched", "stable");
    assert!(
        stable.starts_with(
            "targeting changed on 2026-11-22 (3 days ago); stable from 2026-11-29 (rules in commit "
        ),
        "{stable}"
    );
    // What stays in the code when each finished flag goes.
    let keep: BTreeMap<&str, &str> = report["readiness"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| Some((f["flag"].as_str()?, f["keep"].as_str()?)))
        .collect();
    assert_eq!(keep.get("rolled-out"), Some(&"on"));
    assert_eq!(keep.get("running"), None);
}

#[test]
fn the_report_lists_what_each_owner_removes_reviews_and_extends() {
    let repo = cleanup_repo();
    let report = json(&repo, &["report", "--refs", "--format", "json"]);
    let owners: Vec<&str> = report["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["owner"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["team-a", "team-b"]);
    let list = |owner: usize, field: &str| -> Vec<String> {
        report["owners"][owner][field]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| match item.get("reason") {
                Some(reason) => format!(
                    "{} {}",
                    reason.as_str().unwrap(),
                    item["flag"].as_str().unwrap()
                ),
                None => item["flag"].as_str().unwrap().to_string(),
            })
            .collect()
    };
    assert_eq!(
        list(0, "remove"),
        [
            "removal-overdue done-unused",
            "expired stale",
            "launched rolled-out"
        ]
    );
    assert_eq!(
        list(1, "remove"),
        [
            "removal-overdue needed",
            "launched just-launched",
            "archived-referenced archived-ref"
        ]
    );
    assert_eq!(list(0, "ready_to_archive"), ["done-unused", "rolled-out"]);
    assert_eq!(list(0, "reviews"), ["switch"]);
    assert_eq!(list(1, "expiring"), ["running"]);
    // The code to remove comes with each flag.
    let archived_ref = &report["owners"][1]["remove"][2];
    assert_eq!(archived_ref["references"][0]["path"], "services/api/app.py");
    assert_eq!(archived_ref["references"][0]["line"], 10);

    let services = &report["services"][0];
    assert_eq!(
        (
            &services["service"],
            &services["active"],
            &services["limit"],
            &services["to_remove"]
        ),
        (
            &Value::from("svc"),
            &Value::from(9),
            &Value::from(25),
            &Value::from(6)
        )
    );
    let ages: Vec<(&str, u64)> = report["ages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["live"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        ages,
        [("experiment", 6), ("release", 2), ("kill-switch", 1)]
    );

    // Half a year of weeks: 10 flags created and 2 archived within it, after 42 and 22 days.
    let trend = &report["trend"];
    assert_eq!(trend["weeks"].as_array().unwrap().len(), 26);
    assert_eq!(
        (&trend["created"], &trend["archived"]),
        (&Value::from(10), &Value::from(2))
    );
    assert_eq!(trend["median_days_to_archive"], 32.0);
    let live: Vec<u64> = trend["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["live"].as_u64().unwrap())
        .collect();
    assert_eq!(live.first(), Some(&1));
    assert_eq!(live.last(), Some(&9));
}

#[test]
fn markdown_has_a_section_per_owner_and_html_is_one_self_contained_page() {
    let repo = cleanup_repo();
    let markdown = stdout(&repo, &["report", "--refs", "--format", "markdown"]);
    let sections: Vec<&str> = markdown
        .lines()
        .filter(|l| l.starts_with("## Owner: "))
        .collect();
    assert_eq!(sections, ["## Owner: team-a", "## Owner: team-b"]);
    assert!(
        markdown.contains("| `rolled-out` | launched: serves `on` to everyone"),
        "{markdown}"
    );
    assert!(
        markdown.contains("  - services/web/flags.ts:4 `export const launchedUi"),
        "{markdown}"
    );

    let html = stdout(&repo, &["report", "--refs", "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), 3, "three charts");
    assert!(!html.contains("<script"), "no script");
    assert!(!html.contains("src="), "nothing loaded from elsewhere");
    for (at, _) in html.match_indices("href=\"") {
        assert!(
            html[at + 6..].starts_with('#'),
            "a link out of the page: {}",
            &html[at..at + 40]
        );
    }
    assert!(!html.contains("url("), "no stylesheet resource");
    assert!(html.contains("default-src 'none'"));
}

#[test]
fn without_a_code_scan_or_history_the_report_says_what_it_does_not_know() {
    let repo = cleanup_repo();
    let report = json(&repo, &["report", "--format", "json"]);
    assert_eq!(
        reason(&report, "done-unused", "code"),
        "code not scanned: pass --refs (default: [refs] paths) to find its uses"
    );
    assert_eq!(
        verdicts(&report)["done-unused"],
        "ready-for-code-removal: + + + + + ?"
    );
    assert_eq!(report["code"]["scanned"], false);

    // Outside git: no trend, and stability is unknown.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo.path().join("flagctl.toml"),
        copy.path().join("flagctl.toml"),
    )
    .unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(repo.path().join("flags"))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = common::flagctl(&[
        "--repo",
        copy.path().to_str().unwrap(),
        "report",
        "--format",
        "json",
    ])
    .output()
    .unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["trend"], Value::Null);
    assert_eq!(verdicts(&report)["done-unused"], "not-ready: + + + ? + ?");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("no trend and no stability check without git history: not a git repository"),
        "{notes}"
    );
}

#[test]
fn archive_ready_archives_exactly_the_ready_flags_in_one_commit() {
    let repo = cleanup_repo();
    let commits = repo.commit_count();
    let dry = json(
        &repo,
        &["archive", "--ready", "--dry-run", "--format", "json"],
    );
    let keys: Vec<&str> = dry["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["done-unused", "rolled-out"]);
    assert_eq!(dry["dry_run"], true);
    let diff = dry["diff"].as_str().unwrap();
    assert!(diff.contains("rename from flags/svc/done-unused.toml\nrename to flags/_archive/svc/done-unused.toml\n"), "{diff}");
    assert!(
        diff.contains("+winner = \"on\"\n"),
        "the launched flag is concluded: {diff}"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "a dry run writes nothing"
    );
    assert_eq!(repo.commit_count(), commits);
    let human = stdout(&repo, &["archive", "--ready", "--dry-run"]);
    assert!(
        human.contains(
            "--- a/flags/svc/rolled-out.toml\n+++ b/flags/_archive/svc/rolled-out.toml\n"
        ),
        "{human}"
    );
    assert!(human.ends_with("dry run: would commit \"flagctl archive: done-unused, rolled-out\"; nothing was written\n"), "{human}");

    repo.flagctl(&["archive", "--ready"]).assert().success();
    assert_eq!(repo.commit_count(), commits + 1);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(repo.last_commit_message().starts_with("flagctl archive: done-unused, rolled-out\n\n- done-unused: Concluded 2026-09-28 with winner on.\n- rolled-out: Concluded 2026-11-25 with winner on: it served it to everyone"));
    let changed = repo.git(&["show", "--no-renames", "--name-status", "--format=", "HEAD"]);
    let mut changed: Vec<&str> = changed.lines().collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            "A\tflags/_archive/svc/done-unused.toml",
            "A\tflags/_archive/svc/rolled-out.toml",
            "D\tflags/svc/done-unused.toml",
            "D\tflags/svc/rolled-out.toml",
        ]
    );
    let archived = repo.read("flags/_archive/svc/rolled-out.toml");
    assert!(
        archived
            .contains("[conclusion]\ndate = 2026-11-25\nwinner = \"on\"\nremove_by = 2026-12-25\n"),
        "{archived}"
    );
    // Nothing is ready any more.
    let again = json(&repo, &["archive", "--ready", "--format", "json"]);
    assert_eq!(again["flags"], Value::Array(Vec::new()));
    assert_eq!(repo.commit_count(), commits + 1);
}

#[test]
fn archive_of_several_keys_is_one_commit_and_refuses_a_flag_others_require() {
    let repo = cleanup_repo();
    let commits = repo.commit_count();
    let out = repo
        .flagctl(&["archive", "needed", "done-unused"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("running require `needed`"), "{stderr}");
    assert_eq!(repo.commit_count(), commits);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.flagctl(&["archive", "done-unused", "done-used"])
        .assert()
        .success();
    assert_eq!(repo.commit_count(), commits + 1);
    assert!(
        repo.path()
            .join("flags/_archive/svc/done-used.toml")
            .exists()
    );
    assert!(
        repo.path()
            .join("flags/_archive/svc/done-unused.toml")
            .exists()
    );
}

#[test]
fn dry_run_writes_nothing_for_every_lifecycle_step() {
    let repo = cleanup_repo();
    let commits = repo.commit_count();
    let steps: [&[&str]; 6] = [
        &["expire", "running", "--winner", "on"],
        &[
            "extend",
            "running",
            "--until",
            "2026-12-20",
            "--reason",
            "more data",
        ],
        &["review", "switch"],
        &["kill", "switch", "--reason", "incident"],
        &["restore", "switch"],
        &["archive", "done-used"],
    ];
    for step in steps {
        let mut args = step.to_vec();
        args.push("--dry-run");
        let out = repo.flagctl(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if step[0] == "restore" {
            // Nothing to restore: refused as without --dry-run.
            assert_eq!(out.status.code(), Some(2), "{text}");
            continue;
        }
        assert!(
            out.status.success(),
            "{step:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("--- a/flags/svc/"), "{step:?}: {text}");
        assert!(text.contains("\n+"), "{step:?}: {text}");
        assert!(text.contains("nothing was written"), "{step:?}: {text}");
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "{step:?}");
        assert_eq!(repo.commit_count(), commits, "{step:?}");
    }
    let extend = stdout(
        &repo,
        &[
            "extend",
            "running",
            "--until",
            "2026-12-20",
            "--reason",
            "r",
            "--dry-run",
        ],
    );
    assert!(
        extend.contains("-expires = 2026-11-28\n+expires = 2026-12-20\n"),
        "{extend}"
    );
}

#[test]
fn list_needs_action_shows_the_flags_to_act_on() {
    let repo = cleanup_repo();
    let list = json(
        &repo,
        &[
            "list",
            "--needs-action",
            "--sort",
            "due",
            "--format",
            "json",
        ],
    );
    let keys: Vec<&str> = list["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    // Past deadlines first (by date), then what is near; launched flags with no
    // deadline near come with their expiry.
    assert_eq!(
        keys,
        [
            "done-unused",
            "stale",
            "needed",
            "switch",
            "running",
            "rolled-out",
            "just-launched"
        ]
    );
}

#[test]
fn repository_text_shows_as_text_in_the_html_report() {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "[refs]\npaths = [\"src\"]\n");
    let hostile = common::experiment("@ml", "2026-09-01", "2026-10-01")
        .replace("test flag", "<script>alert(1)</script> & \\u001b[2J");
    repo.write("flags/svc/x.toml", &hostile);
    repo.write(
        "src/app.js",
        "const v = client.getBooleanValue('x', false); // <img src=x onerror=alert(2)>\n",
    );
    repo.commit_all_at("hostile", "2026-09-01");
    let html = stdout(&repo, &["report", "--refs", "--format", "html"]);
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\u{1b}[2J"),
        "{html}"
    );
    let markdown = stdout(&repo, &["report", "--refs", "--format", "markdown"]);
    assert!(!markdown.contains("<script"), "{markdown}");
    // Code is quoted as a code span, where nothing is markup.
    assert!(
        markdown.contains("  - src/app.js:1 `const v = client.getBooleanValue('x', false); // <img src=x onerror=alert(2)>`"),
        "{markdown}"
    );
}

/// A concluded experiment whose winner `candidate` is the string "v2".
const CONCLUDED: &str = "description = \"ranker v2\"\nkind = \"experiment\"\nowner = \"team-a\"\n\
created = 2026-09-01\nexpires = 2026-10-30\ndefault = \"baseline\"\n\n[variants]\nbaseline = \"v1\"\ncandidate = \"v2\"\n\n\
[conclusion]\ndate = 2026-10-01\nwinner = \"candidate\"\nremove_by = 2026-12-20\n";

/// A release rolled out to everyone and not concluded: launched.
const LAUNCHED: &str = "description = \"new feed\"\nkind = \"release\"\nowner = \"team-b\"\n\
created = 2026-09-01\nexpires = 2026-12-30\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n\n\
[[rules]]\nname = \"everyone\"\nrollout = [{ variant = \"on\", weight = 100 }]\n";

const RANK_PY: &str = "def rank(client, items):\n    model = client.get_string_value(\"ranker-v2\", \"v1\")\n    if model == \"v2\":  # <img src=x onerror=alert(2)>\n        return rank_v2(items)\n    return rank_v1(items)\n";

const HELPERS_GO: &str = "package svc\n\nfunc helper(client *Client) {\n\tuse(client.String(ctx, \"ranker-v2\", \"v1\", ec))\n}\n";

#[test]
fn the_report_shows_what_cleanup_would_change_for_each_flag_ready_for_code_removal() {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", CONFIG);
    repo.write("flags/ranking/ranker-v2.toml", CONCLUDED);
    repo.write("flags/feed/new-feed.toml", LAUNCHED);
    repo.write("services/ranking/rank.py", RANK_PY);
    repo.write("services/ranking/helpers.go", HELPERS_GO);
    repo.write(
        "services/feed/feed.ts",
        "export const on = await client.getBooleanValue(\"new-feed\", false);\n",
    );
    repo.commit_all_at("flags and code", "2026-10-01");

    let report = json(&repo, &["report", "--refs", "--format", "json"]);
    let previews = report["cleanup"].as_array().unwrap();
    let keys: Vec<&str> = previews
        .iter()
        .map(|p| p["flag"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["new-feed", "ranker-v2"], "{report:#}");
    let ranker = &previews[1];
    assert_eq!(ranker["owner"], "team-a");
    assert_eq!(ranker["variant"], "candidate");
    assert_eq!(ranker["value"], "v2");
    assert_eq!(ranker["refused"], Value::Null);
    assert_eq!(
        (&ranker["uses"], &ranker["rewritten"], &ranker["skipped"]),
        (&Value::from(2), &Value::from(1), &Value::from(1))
    );
    assert_eq!(
        ranker["files"],
        serde_json::json!([{"path": "services/ranking/rank.py", "lines_added": 1, "lines_removed": 4}])
    );
    let changes = ranker["changes"].as_array().unwrap();
    assert_eq!(changes[0]["path"], "services/ranking/helpers.go");
    assert_eq!(changes[0]["outcome"], "skipped");
    assert!(
        changes[0]["reason"]
            .as_str()
            .unwrap()
            .contains("function call"),
        "{ranker:#}"
    );
    assert_eq!(changes[1]["path"], "services/ranking/rank.py");
    assert_eq!(changes[1]["line"], 2);
    assert_eq!(changes[1]["outcome"], "rewritten");
    // A launched flag keeps its variant, but cleanup needs a conclusion first.
    let feed = &previews[0];
    assert!(
        feed["refused"]
            .as_str()
            .unwrap()
            .contains("flagctl expire new-feed --winner VARIANT"),
        "{feed:#}"
    );
    assert_eq!(feed["changes"], serde_json::json!([]));

    let markdown = stdout(&repo, &["report", "--refs", "--format", "markdown"]);
    for expected in [
        "## What `flagctl cleanup` would change",
        "### `ranker-v2`",
        "keeps `candidate` (`\"v2\"`) · 1 of 2 uses rewritten, 1 skipped · 1 file, +1 −4 lines",
        "- services/ranking/helpers.go:4 `use(client.String(ctx, \"ranker-v2\", \"v1\", ec))` — skipped: the value flows into a function call",
        "- services/ranking/rank.py:2 `model = client.get_string_value(\"ranker-v2\", \"v1\")` — rewritten\n",
        "```diff\n--- a/services/ranking/rank.py\n+++ b/services/ranking/rank.py\n",
        "\n-    model = client.get_string_value(\"ranker-v2\", \"v1\")\n",
        "\n+    return rank_v2(items)\n",
        "### `new-feed`",
        "cleanup cannot rewrite it: `new-feed` is live",
    ] {
        assert!(markdown.contains(expected), "{expected}\n{markdown}");
    }

    let html = stdout(&repo, &["report", "--refs", "--format", "html"]);
    assert!(!html.contains("<img"), "{html}");
    for expected in [
        "<h2 id=\"cleanup\">What <code>flagctl cleanup</code> would change</h2>",
        "<span class=\"del\">-    if model == &quot;v2&quot;:  # &lt;img src=x onerror=alert(2)&gt;</span>",
        "<span class=\"add\">+    return rank_v2(items)</span>",
        "<td><code>services/ranking/helpers.go:4</code></td><td><span class=\"skipped\">skipped</span>: the value flows into a function call",
    ] {
        assert!(html.contains(expected), "{expected}\n{html}");
    }
    // Nothing was written.
    assert_eq!(repo.read("services/ranking/rank.py"), RANK_PY);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}
