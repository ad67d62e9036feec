//! End to end: `flagctl cleanup` in temporary git repositories. The sprint's last step —
//! expire, look at the diff, clean up, audit, archive — and what cleanup refuses.

mod common;

use common::TestRepo;
use serde_json::Value;

/// A concluded-to-be experiment whose winner `candidate` is the string "v2".
const EXPERIMENT: &str = "description = \"ranker v2\"\nkind = \"experiment\"\nowner = \"ml@example.com\"\n\
created = 2026-11-01\nexpires = 2026-11-30\ndefault = \"baseline\"\n\n[variants]\nbaseline = \"v1\"\ncandidate = \"v2\"\n";

/// A boolean experiment.
const SWITCHED: &str = "description = \"new feed\"\nkind = \"experiment\"\nowner = \"ml@example.com\"\n\
created = 2026-11-01\nexpires = 2026-11-30\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n";

const RANK_PY: &str = "def rank(client, items):\n    model = client.get_string_value(\"ranker-v2\", \"v1\")\n    if model == \"v2\":\n        return rank_v2(items)\n    return rank_v1(items)\n";

const FEED_TS: &str = "export async function feed(client: Client): Promise<number> {\n  // the new feed\n  if (await client.getBooleanValue(\"new-feed\", false)) {\n    return 2;\n  }\n  return 1;\n}\n";

const HELPERS_GO: &str = "package svc\n\nfunc helper(client *Client) {\n\tuse(client.String(ctx, \"ranker-v2\", \"v1\", ec))\n}\n";

/// A repository with two flags and code reading them, all committed.
fn repo() -> TestRepo {
    let repo = TestRepo::initialised();
    repo.write("flags/ranking/ranker-v2.toml", EXPERIMENT);
    repo.write("flags/feed/new-feed.toml", SWITCHED);
    repo.write("services/ranking/rank.py", RANK_PY);
    repo.write("services/feed/feed.ts", FEED_TS);
    repo.write("services/ranking/helpers.go", HELPERS_GO);
    repo.write(
        "services/feed/Feed.kt",
        "fun feed(client: Client) = client.getBooleanValue(\"new-feed\", false)\n",
    );
    repo.write(
        "services/README.md",
        "The ranker is behind `ranker-v2` until the sprint ends.\n",
    );
    repo.commit_all_at("flags and code", "2026-11-01");
    repo
}

/// [`repo`] with `key` concluded on `winner`.
fn concluded(key: &str, winner: &str) -> TestRepo {
    let repo = repo();
    repo.flagctl(&["expire", key, "--winner", winner])
        .assert()
        .success();
    repo
}

fn json(repo: &TestRepo, args: &[&str]) -> Value {
    let out = repo
        .flagctl(&[&["--format", "json"], args].concat())
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn expire_dry_run_cleanup_audit_archive() {
    let repo = concluded("ranker-v2", "candidate");
    let commits = repo.commit_count();

    // The diff and the table; nothing is written.
    let out = repo
        .flagctl(&["cleanup", "ranker-v2", "--dry-run"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("--- a/services/ranking/rank.py\n+++ b/services/ranking/rank.py\n"),
        "{stdout}"
    );
    assert!(stdout.contains("-    if model == \"v2\":\n"), "{stdout}");
    assert!(
        stdout.contains("ranker-v2: 1 of 3 uses rewritten to `candidate` (\"v2\"), 2 skipped; 1 file, +1 −4 lines"),
        "{stdout}"
    );
    assert!(
        stdout.contains("services/ranking/helpers.go:4:26  skipped    String: the value flows into a function call (`use(…)`)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "services/README.md:1:23           skipped    text: the key in a file no parser reads"
        ),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("dry run: nothing was written\n"),
        "{stdout}"
    );
    assert_eq!(repo.read("services/ranking/rank.py"), RANK_PY);
    assert_eq!(repo.commit_count(), commits);

    // One commit of the source file alone, with the table in its message.
    repo.flagctl(&["cleanup", "ranker-v2"]).assert().success();
    assert_eq!(repo.commit_count(), commits + 1);
    assert_eq!(
        repo.read("services/ranking/rank.py"),
        "def rank(client, items):\n    return rank_v2(items)\n"
    );
    let files = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files, "services/ranking/rank.py\n");
    let message = repo.last_commit_message();
    assert!(
        message.starts_with("flagctl cleanup: ranker-v2\n\n"),
        "{message}"
    );
    assert!(
        message.contains("services/ranking/rank.py:2:38 ranker-v2 rewritten (get_string_value)"),
        "{message}"
    );
    assert!(
        message.contains(
            "services/ranking/helpers.go:4:26 ranker-v2 skipped (String): the value flows"
        ),
        "{message}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    // The uses left are the ones a person removes; then no reference is left.
    repo.write("services/ranking/helpers.go", "package svc\n");
    repo.write("services/README.md", "The ranker is v2.\n");
    repo.commit_all_at("by hand", "2026-11-25");
    let audit = json(&repo, &["audit", "--refs"]);
    let refs: Vec<&Value> = audit["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["flag"] == "ranker-v2")
        .collect();
    assert!(
        refs.iter().all(|f| f["rule"] != "archived-flag-referenced"),
        "{audit}"
    );
    let scan = json(&repo, &["refs"]);
    let ranker = scan["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == "ranker-v2")
        .unwrap();
    assert_eq!(ranker["references"], Value::Array(Vec::new()), "{scan}");
    repo.flagctl(&["archive", "ranker-v2"]).assert().success();
    assert!(
        repo.path()
            .join("flags/_archive/ranking/ranker-v2.toml")
            .exists()
    );
}

#[test]
fn an_archived_flag_is_cleaned_up_with_its_winner_and_json_gives_the_table() {
    let repo = concluded("new-feed", "on");
    repo.flagctl(&["archive", "new-feed"]).assert().success();
    let report = json(&repo, &["cleanup", "new-feed", "services", "--dry-run"]);
    assert_eq!(report["schema"], 1);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["flags"][0]["flag"], "new-feed");
    assert_eq!(report["flags"][0]["variant"], "on");
    assert_eq!(report["flags"][0]["value"], true);
    assert_eq!(report["flags"][0]["rewritten"], 1);
    assert_eq!(report["uses"][0]["path"], "services/feed/Feed.kt");
    assert_eq!(report["uses"][0]["outcome"], "skipped");
    assert_eq!(
        report["uses"][0]["reason"],
        "cleanup does not rewrite Kotlin files"
    );
    assert_eq!(report["uses"][1]["path"], "services/feed/feed.ts");
    assert_eq!(report["uses"][1]["outcome"], "rewritten");
    assert_eq!(report["uses"][1]["method"], "getBooleanValue");
    let diff = report["files"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("+  return 2;\n"), "{diff}");
    assert!(report["commit"].is_null(), "{report}");

    let done = json(&repo, &["cleanup", "new-feed"]);
    assert!(done["commit"].is_string(), "{done}");
    assert!(done["files"][0].get("diff").is_none(), "{done}");
    assert_eq!(
        repo.read("services/feed/feed.ts"),
        "export async function feed(client: Client): Promise<number> {\n  // the new feed\n  return 2;\n}\n"
    );
}

#[test]
fn a_live_flag_is_refused_naming_expire() {
    let repo = repo();
    let out = repo.flagctl(&["cleanup", "ranker-v2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`ranker-v2` is live")
            && stderr.contains("flagctl expire ranker-v2 --winner VARIANT"),
        "{stderr}"
    );
    let out = repo.flagctl(&["cleanup", "ranker-v3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did you mean `ranker-v2`?"), "{stderr}");
    assert_eq!(repo.read("services/ranking/rank.py"), RANK_PY);
}

#[test]
fn uncommitted_source_changes_are_refused_and_the_walk_follows_no_symlink() {
    let repo = concluded("new-feed", "on");
    let edited = FEED_TS.replace("// the new feed", "// edited");
    repo.write("services/feed/feed.ts", &edited);
    let out = repo.flagctl(&["cleanup", "new-feed"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has uncommitted changes"), "{stderr}");
    assert_eq!(repo.read("services/feed/feed.ts"), edited);

    repo.git(&["checkout", "--", "services/feed/feed.ts"]);
    std::fs::create_dir_all(repo.path().join("elsewhere")).unwrap();
    std::fs::write(repo.path().join("elsewhere/feed.ts"), FEED_TS).unwrap();
    std::fs::remove_file(repo.path().join("services/feed/feed.ts")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "../../elsewhere/feed.ts",
        repo.path().join("services/feed/feed.ts"),
    )
    .unwrap();
    repo.commit_all_at("symlinked", "2026-11-20");
    let report = json(
        &repo,
        &["cleanup", "new-feed", "--dry-run", "services", "elsewhere"],
    );
    let uses: Vec<&Value> = report["uses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["path"] != "services/feed/Feed.kt")
        .collect();
    // The walk never follows the symlink; the file it leads to is rewritten in place.
    assert_eq!(uses.len(), 1, "{report}");
    assert_eq!(uses[0]["path"], "elsewhere/feed.ts");
    assert_eq!(report["files"][0]["path"], "elsewhere/feed.ts");
}

#[test]
fn a_path_through_a_symlinked_folder_is_cleaned_up_where_the_file_is() {
    let repo = concluded("new-feed", "on");
    std::fs::create_dir_all(repo.path().join("real")).unwrap();
    std::fs::rename(
        repo.path().join("services/feed"),
        repo.path().join("real/feed"),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("../real/feed", repo.path().join("services/feed")).unwrap();
    repo.commit_all_at("a symlinked folder", "2026-11-20");
    let report = json(
        &repo,
        &["cleanup", "new-feed", "--dry-run", "services/feed/feed.ts"],
    );
    let uses = report["uses"].as_array().unwrap();
    assert_eq!(uses.len(), 1, "{report}");
    assert_eq!(uses[0]["path"], "real/feed/feed.ts", "{report}");
    assert_eq!(report["files"][0]["path"], "real/feed/feed.ts");
}

#[cfg(unix)]
#[test]
fn a_symlinked_source_file_is_never_rewritten() {
    use flagctl::cleanup::{Outcome, plan, winner};
    use flagctl::refs::{FlagRefs, RefKind, Reference, Scan};

    let repo = concluded("new-feed", "on");
    std::fs::rename(
        repo.path().join("services/feed/feed.ts"),
        repo.path().join("services/feed/real.ts"),
    )
    .unwrap();
    std::os::unix::fs::symlink("real.ts", repo.path().join("services/feed/feed.ts")).unwrap();
    let loaded = flagctl::repo::Repo::load(repo.path()).unwrap();
    let at = FEED_TS.find("\"new-feed\"").unwrap();
    let reference = |path: &str| Reference {
        path: path.into(),
        line: 3,
        column: 36,
        kind: RefKind::Call,
        method: Some("getBooleanValue".into()),
        default: None,
        text: String::new(),
        value_type: None,
        default_text: None,
        span: at..at + 10,
    };
    let scan = Scan {
        flags: vec![FlagRefs {
            flag: "new-feed".into(),
            archived: false,
            references: vec![
                reference("services/feed/feed.ts"),
                reference("../outside.ts"),
            ],
        }],
        ..Scan::default()
    };
    let planned = plan(&loaded, vec![winner(&loaded, "new-feed").unwrap()], &scan).unwrap();
    assert!(planned.files.is_empty(), "{:?}", planned.files);
    let reasons: Vec<&str> = planned
        .uses
        .iter()
        .map(|u| {
            assert_eq!(u.outcome, Outcome::Skipped);
            u.reason.as_deref().unwrap()
        })
        .collect();
    assert!(
        reasons[0].contains("not a path inside the repository"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("symlink"), "{reasons:?}");
}

#[test]
fn in_house_wrappers_from_flagctl_toml_are_rewritten() {
    let repo = repo();
    let config = repo.read("flagctl.toml");
    repo.write(
        "flagctl.toml",
        &format!("{config}\n[[cleanup.rules]]\nlanguage = \"python\"\npattern = \"is_on($KEY)\"\n"),
    );
    repo.write(
        "services/feed/page.py",
        "def page():\n    if is_on(\"new-feed\"):\n        return 2\n    return 1\n",
    );
    repo.commit_all_at("a wrapper", "2026-11-02");
    repo.flagctl(&["expire", "new-feed", "--winner", "on"])
        .assert()
        .success();
    repo.flagctl(&["cleanup", "new-feed"]).assert().success();
    assert_eq!(
        repo.read("services/feed/page.py"),
        "def page():\n    return 2\n"
    );

    // A rule that does not compile stops cleanup, naming it.
    repo.write(
        "flagctl.toml",
        &format!("{config}\n[[cleanup.rules]]\nlanguage = \"go\"\npattern = \"is_on($KEY\"\n"),
    );
    repo.commit_all_at("a broken rule", "2026-11-25");
    let out = repo
        .flagctl(&["cleanup", "new-feed", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[[cleanup.rules]] #1"), "{stderr}");

    // An unknown language is an invalid flagctl.toml.
    repo.write(
        "flagctl.toml",
        &format!("{config}\n[[cleanup.rules]]\nlanguage = \"pyton\"\npattern = \"is_on($KEY)\"\n"),
    );
    let out = repo.flagctl(&["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("did you mean `python`?"), "{stdout}");
}

#[test]
fn no_commit_only_writes() {
    let repo = concluded("new-feed", "on");
    let commits = repo.commit_count();
    repo.flagctl(&["cleanup", "new-feed", "--no-commit"])
        .assert()
        .success();
    assert_eq!(repo.commit_count(), commits);
    assert!(
        repo.read("services/feed/feed.ts")
            .contains("  return 2;\n}\n")
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        " M services/feed/feed.ts\n"
    );
}

#[test]
fn nothing_to_rewrite_commits_nothing() {
    let repo = concluded("ranker-v2", "candidate");
    let commits = repo.commit_count();
    let out = repo
        .flagctl(&["cleanup", "ranker-v2", "services/ranking/helpers.go"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.ends_with("nothing to rewrite\n"), "{stdout}");
    assert_eq!(repo.commit_count(), commits);
}

/// A generated file that names the flag thousands of times is left alone, with the
/// reason, after bounded work (each use is placed in the file's tree); the uses of other
/// files are still rewritten.
#[test]
fn a_file_with_too_many_uses_is_skipped_with_the_reason() {
    let repo = concluded("ranker-v2", "candidate");
    repo.write(
        "services/ranking/generated.py",
        &"X = \"ranker-v2\"\n".repeat(5_000),
    );
    repo.commit_all_at("generated", "2026-11-02");
    let table = json(&repo, &["cleanup", "ranker-v2", "--dry-run"]);
    let skipped: Vec<&Value> = table["uses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["path"] == "services/ranking/generated.py")
        .collect();
    assert_eq!(skipped.len(), 5_000);
    let why = skipped[0]["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("names the flags 5000 times") && why.contains("edit it by hand"),
        "{}",
        skipped[0]
    );
    assert!(
        table["uses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["path"] == "services/ranking/rank.py" && u["outcome"] == "rewritten"),
        "{table}"
    );
}

/// After a key, a path that is not there is named as a missing path, not as a flag.
#[test]
fn a_missing_path_is_named_as_a_path() {
    let repo = concluded("ranker-v2", "candidate");
    let out = repo
        .flagctl(&["cleanup", "ranker-v2", "services/nowhere", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("no file or folder `services/nowhere`"),
        "{stderr}"
    );
}
