//! The history of references, end to end: when each flag without a use lost its last
//! one, what `refs --base REV` adds and removes, and `audit --refs --base REV` failing a
//! pull request that adds a use of a finished flag. Every repository is generated with
//! fixed commit dates; today is `--as-of 2026-11-25`.

mod common;

use common::{TestRepo, experiment};
use serde_json::Value;

const OWNER: &str = "team@example.com";

/// A repository that scans `src/` for references, with these flag files committed.
fn repository(flags: &[(&str, String)]) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "[refs]\npaths = [\"src\"]\n");
    for (path, text) in flags {
        repo.write(&format!("flags/{path}.toml"), text);
    }
    repo.commit_all_at("add the flags", "2026-09-01");
    repo
}

/// A live experiment, expiring on `expires`.
fn live(expires: &str) -> String {
    experiment(OWNER, "2026-11-01", expires)
}

/// An experiment of September, archived.
fn archived() -> String {
    experiment(OWNER, "2026-09-01", "2026-09-30")
}

/// A concluded experiment: it serves `on` to everyone until 2026-12-20.
fn concluded() -> String {
    experiment(OWNER, "2026-10-01", "2026-10-30")
        + "\n[conclusion]\ndate = 2026-11-20\nwinner = \"on\"\nremove_by = 2026-12-20\n"
}

/// An SDK call reading `key`.
fn call(key: &str) -> String {
    format!("enabled = client.get_boolean_value(\"{key}\", False)\n")
}

/// Commits everything as `author` on `date`.
fn commit_as(repo: &TestRepo, author: &str, message: &str, date: &str) {
    repo.git(&["add", "-A"]);
    let author = format!(
        "--author={author} <{}@example.com>",
        author.replace(' ', ".")
    );
    repo.git_at(&["commit", "-qm", message, &author], date);
}

fn head(repo: &TestRepo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

/// `flagctl ARGS… --format json`: exit code, the document, stderr.
fn json(repo: &TestRepo, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = repo
        .flagctl(&all)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), json, stderr)
}

/// The flag `key` of a `refs --format json` document.
fn flag<'j>(refs: &'j Value, key: &str) -> &'j Value {
    refs["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == key)
        .unwrap_or_else(|| panic!("no flag {key} in {refs}"))
}

/// Noise: `n` commits that each change a file of their own, by Bo.
fn noise(repo: &TestRepo, from: usize, n: usize, day: &str) {
    for i in from..from + n {
        repo.write(&format!("src/noise_{i}.py"), &format!("x = {i}\n"));
        commit_as(repo, "Bo Chen", &format!("noise {i}"), day);
    }
}

#[test]
fn the_commit_that_removed_the_last_use_is_named_among_many() {
    let repo = repository(&[
        ("ranking/ranker", live("2026-12-20")),
        ("ranking/kept", live("2026-12-20")),
        ("_archive/ranking/retired", archived()),
    ]);
    repo.write(
        "src/rank.py",
        &(call("ranker") + &call("ranker") + &call("kept")),
    );
    repo.write("src/old.py", &call("retired"));
    commit_as(&repo, "Bo Chen", "read the flags", "2026-09-02");
    noise(&repo, 0, 15, "2026-09-10");
    // One of two uses goes: not yet the last.
    repo.write("src/rank.py", &(call("ranker") + &call("kept")));
    commit_as(&repo, "Bo Chen", "one ranker call less", "2026-09-20");
    noise(&repo, 15, 15, "2026-09-25");
    repo.write("src/rank.py", &call("kept"));
    commit_as(
        &repo,
        "Ada Lovelace",
        "remove ranker call",
        "2026-10-02T09:30:00+02:00",
    );
    let removal = head(&repo);
    std::fs::remove_file(repo.path().join("src/old.py")).unwrap();
    commit_as(
        &repo,
        "Cy Young",
        "drop the retired flag's code",
        "2026-10-05",
    );
    let retired = head(&repo);
    noise(&repo, 30, 15, "2026-10-10");

    let (code, refs, stderr) = json(&repo, &["refs"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        flag(&refs, "ranker")["last_use_removed"],
        serde_json::json!({
            "commit": removal,
            "author": "Ada Lovelace",
            "date": "2026-10-02T09:30:00+02:00",
            "summary": "remove ranker call",
            "path": "src/rank.py",
        })
    );
    assert_eq!(
        flag(&refs, "retired")["last_use_removed"]["commit"],
        retired
    );
    assert_eq!(
        flag(&refs, "retired")["last_use_removed"]["path"],
        "src/old.py"
    );
    assert_eq!(flag(&refs, "kept")["last_use_removed"], Value::Null);
    assert_eq!(refs["notes"], serde_json::json!([]));

    let human = repo.flagctl(&["refs"]).output().unwrap();
    let human = String::from_utf8(human.stdout).unwrap();
    assert!(
        human.contains(&format!(
            "  ranker: no use since {} (Ada Lovelace, 2026-10-02): remove ranker call (src/rank.py)\n",
            &removal[..7]
        )),
        "{human}"
    );
    assert!(
        human.contains("  retired (archived): no use since"),
        "{human}"
    );

    let without = json(&repo, &["refs", "--no-history"]).1;
    assert_eq!(flag(&without, "ranker")["last_use_removed"], Value::Null);
}

#[test]
fn a_use_moved_between_files_is_not_its_removal() {
    let repo = repository(&[("search/moved", live("2026-12-20"))]);
    repo.write("src/a.py", &call("moved"));
    commit_as(&repo, "Bo Chen", "read moved", "2026-09-02");
    // The move is a deletion and an addition of one use in one commit: no use lost.
    std::fs::remove_file(repo.path().join("src/a.py")).unwrap();
    repo.write("src/lib/b.py", &format!("# moved here\n{}", call("moved")));
    commit_as(&repo, "Bo Chen", "move the call to lib", "2026-09-05");
    noise(&repo, 0, 3, "2026-09-06");
    let (_, refs, _) = json(&repo, &["refs"]);
    assert_eq!(flag(&refs, "moved")["last_use_removed"], Value::Null);
    assert_eq!(
        flag(&refs, "moved")["references"][0]["path"],
        "src/lib/b.py"
    );
    repo.write("src/lib/b.py", "# moved here\n");
    commit_as(&repo, "Ada Lovelace", "stop reading moved", "2026-09-09");
    let removal = head(&repo);
    noise(&repo, 3, 3, "2026-09-10");
    let (_, refs, _) = json(&repo, &["refs"]);
    let found = &flag(&refs, "moved")["last_use_removed"];
    assert_eq!(found["commit"], removal, "{refs}");
    assert_eq!(found["path"], "src/lib/b.py");
}

#[test]
fn a_mention_in_a_comment_is_no_use() {
    let repo = repository(&[("search/gone", live("2026-12-20"))]);
    repo.write("src/app.py", &call("gone"));
    commit_as(&repo, "Bo Chen", "read gone", "2026-09-02");
    repo.write("src/app.py", "# \"gone\" was read here until September\n");
    commit_as(&repo, "Ada Lovelace", "stop reading gone", "2026-09-09");
    let removal = head(&repo);
    noise(&repo, 0, 3, "2026-09-10");
    let (code, refs, _) = json(&repo, &["refs"]);
    assert_eq!(code, Some(0));
    let gone = flag(&refs, "gone");
    let kinds: Vec<&str> = gone["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    // Comments are told from code by the language parsers; without one for Python the
    // quoted key counts as text, which is a use.
    if kinds == ["comment"] {
        assert_eq!(gone["last_use_removed"]["commit"], removal, "{refs}");
        assert_eq!(gone["last_use_removed"]["path"], "src/app.py");
    } else {
        assert_eq!(kinds, ["text"], "{refs}");
        assert_eq!(gone["last_use_removed"], Value::Null);
    }
}

#[test]
fn a_use_removed_but_not_committed_is_noted_not_dated() {
    let repo = repository(&[("search/leaving", live("2026-12-20"))]);
    repo.write("src/app.py", &call("leaving"));
    commit_as(&repo, "Bo Chen", "read leaving", "2026-09-02");
    repo.write("src/app.py", "pass\n");
    let (code, refs, stderr) = json(&repo, &["refs"]);
    assert_eq!(code, Some(0));
    assert_eq!(flag(&refs, "leaving")["last_use_removed"], Value::Null);
    let note = "the last use of `leaving` was removed from src/app.py by changes not committed yet";
    assert_eq!(refs["notes"], serde_json::json!([note]));
    assert!(stderr.contains(note), "{stderr}");
}

#[test]
fn without_the_history_refs_says_so_and_still_succeeds() {
    // Not in git at all.
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(
        plain.path().join("flagctl.toml"),
        "[refs]\npaths = [\"src\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(plain.path().join("flags/search")).unwrap();
    std::fs::create_dir_all(plain.path().join("src")).unwrap();
    std::fs::write(
        plain.path().join("flags/search/idle.toml"),
        live("2026-12-20"),
    )
    .unwrap();
    let out = common::flagctl(&["refs", "--format", "json"])
        .current_dir(plain.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let refs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(flag(&refs, "idle")["last_use_removed"], Value::Null);
    assert!(
        refs["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("not a git repository"),
        "{refs}"
    );

    // A git repository before its first commit.
    let unborn = TestRepo::new();
    unborn.write("flagctl.toml", "[refs]\npaths = [\"src\"]\n");
    unborn.write("flags/search/idle.toml", &live("2026-12-20"));
    let (code, refs, stderr) = json(&unborn, &["refs"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        refs["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("no commits yet"),
        "{refs}"
    );

    // A shallow clone: the commits it holds are read, the note says where it ends.
    let origin = repository(&[
        ("search/recent", live("2026-12-20")),
        ("search/ancient", live("2026-12-20")),
    ]);
    origin.write("src/app.py", &(call("ancient") + &call("recent")));
    commit_as(&origin, "Bo Chen", "read both", "2026-09-02");
    origin.write("src/app.py", &call("recent"));
    commit_as(&origin, "Bo Chen", "drop ancient", "2026-09-03");
    noise(&origin, 0, 3, "2026-09-04");
    origin.write("src/app.py", "pass\n");
    commit_as(&origin, "Ada Lovelace", "drop recent", "2026-09-08");
    let dropped = head(&origin);
    let clone = TestRepo::new();
    let url = format!("file://{}", origin.path().display());
    clone.git(&["fetch", "-q", "--depth", "2", &url, "main"]);
    clone.git(&["checkout", "-q", "-b", "main", "FETCH_HEAD"]);
    let (code, refs, stderr) = json(&clone, &["refs"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(flag(&refs, "recent")["last_use_removed"]["commit"], dropped);
    assert_eq!(flag(&refs, "ancient")["last_use_removed"], Value::Null);
    let note = refs["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("shallow clone: the history of references ends at commit"),
        "{note}"
    );
    assert!(note.contains("1 flag was removed before it"), "{note}");
}

#[test]
fn a_forged_history_costs_bounded_work_and_a_note() {
    let repo = repository(&[
        ("search/deep", live("2026-12-20")),
        ("search/huge", live("2026-12-20")),
        ("search/lost", live("2026-12-20")),
    ]);
    // A use of `lost` in a blob that will go missing from the object database.
    repo.write("src/lost.py", &call("lost"));
    commit_as(&repo, "Bo Chen", "read lost", "2026-09-02");
    let lost_blob = repo
        .git(&["rev-parse", "HEAD:src/lost.py"])
        .trim()
        .to_string();
    repo.write("src/lost.py", "pass\n");
    commit_as(&repo, "Bo Chen", "stop reading lost", "2026-09-03");
    // A use of `huge` in a file larger than a scan reads.
    let mut huge = call("huge");
    huge.push_str(&"# padding\n".repeat(1_700_000));
    repo.write("src/huge.py", &huge);
    commit_as(&repo, "Bo Chen", "a huge file", "2026-09-04");
    std::fs::remove_file(repo.path().join("src/huge.py")).unwrap();
    commit_as(&repo, "Bo Chen", "no huge file", "2026-09-05");
    // A use of `deep` deeper than the walk follows.
    let deep = format!("src/{}x.py", "d/".repeat(300));
    repo.write(&deep, &call("deep"));
    commit_as(&repo, "Bo Chen", "a deep file", "2026-09-06");
    std::fs::remove_dir_all(repo.path().join("src/d")).unwrap();
    commit_as(&repo, "Bo Chen", "no deep file", "2026-09-07");
    let object = repo
        .path()
        .join(".git/objects")
        .join(&lost_blob[..2])
        .join(&lost_blob[2..]);
    std::fs::remove_file(object).unwrap();

    let (code, refs, stderr) = json(&repo, &["refs"]);
    assert_eq!(code, Some(0), "{stderr}");
    for key in ["deep", "huge", "lost"] {
        assert_eq!(flag(&refs, key)["last_use_removed"], Value::Null, "{key}");
    }
    let notes: Vec<&str> = refs["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].starts_with("the history of references stops at commit"),
        "{notes:?}"
    );
    assert!(
        notes[0].contains("3 flags not looked up before it"),
        "{notes:?}"
    );
    assert_eq!(
        notes[1],
        "the history of references left out 2 file versions larger than 16 MiB"
    );
    assert_eq!(
        notes[2],
        "the history of references did not follow 2 folders nested deeper than 256 levels"
    );
}

/// main: a live flag read by the code, an expired and a concluded one nobody reads, and
/// an archived one still read; `pr` branches off it.
fn pull_request() -> TestRepo {
    let repo = repository(&[
        ("ranking/fresh", live("2026-12-20")),
        ("ranking/stale", live("2026-11-20")),
        ("ranking/decided", concluded()),
        ("_archive/ranking/retired", archived()),
    ]);
    repo.write(
        "src/app.py",
        &(call("fresh") + &call("retired") + "\n\ndef helper():\n    return 1\n"),
    );
    // Hidden files are not scanned, in the work tree or in a commit.
    repo.write("src/.cache/flags.py", &call("decided"));
    commit_as(&repo, "Bo Chen", "read the flags", "2026-11-02");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo
}

/// `audit --refs --base main`: exit code and findings as `rule path:line`.
fn gate(repo: &TestRepo) -> (Option<i32>, Vec<String>) {
    let (code, audit, stderr) = json(repo, &["audit", "--refs", "--base", "main"]);
    let findings = audit["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit}\n{stderr}"))
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}",
                f["rule"].as_str().unwrap(),
                f["path"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect();
    (code, findings)
}

#[test]
fn a_pull_request_adding_a_use_of_an_expired_flag_fails_the_gate() {
    let repo = pull_request();
    // Lines move down: the old uses are not new uses.
    repo.write(
        "src/app.py",
        &("import os\n".to_string()
            + &call("fresh")
            + &call("retired")
            + &call("stale")
            + "\n\ndef helper():\n    return 1\n"),
    );
    commit_as(&repo, "Ada Lovelace", "read stale", "2026-11-24");
    let (code, findings) = gate(&repo);
    assert_eq!(code, Some(1));
    assert_eq!(findings, ["finished-flag-referenced src/app.py:4"]);

    // The same branch without that line passes.
    repo.write(
        "src/app.py",
        &("import os\n".to_string()
            + &call("fresh")
            + &call("retired")
            + "\n\ndef helper():\n    return 2\n"),
    );
    commit_as(&repo, "Ada Lovelace", "do not read stale", "2026-11-24");
    assert_eq!(gate(&repo), (Some(0), Vec::new()));
}

#[test]
fn new_uses_of_concluded_and_archived_flags_fail_the_gate() {
    let repo = pull_request();
    // A second, identical use of the archived flag in the same file, and one of the
    // concluded flag in a new file.
    repo.write(
        "src/app.py",
        &(call("fresh") + &call("retired") + &call("retired")),
    );
    repo.write("src/more.py", &call("decided"));
    commit_as(&repo, "Ada Lovelace", "read more", "2026-11-24");
    let (code, findings) = gate(&repo);
    assert_eq!(code, Some(1));
    assert_eq!(
        findings,
        [
            "archived-flag-referenced src/app.py:3",
            "finished-flag-referenced src/more.py:1",
        ]
    );
    // Without --base, the concluded flag's use is no finding (nothing says it is new).
    let (_, audit, _) = json(&repo, &["audit", "--refs"]);
    assert!(
        !audit.to_string().contains("finished-flag-referenced"),
        "{audit}"
    );
}

#[test]
fn refs_base_lists_exactly_what_a_change_adds_and_removes() {
    let repo = pull_request();
    let main = head(&repo);
    repo.write(
        "src/app.py",
        &("import os\n".to_string() + &call("fresh") + &call("stale")),
    );
    repo.write("src/.hidden.py", &call("decided"));
    assert!(repo.path().join("src/.cache/flags.py").exists());
    commit_as(&repo, "Ada Lovelace", "change the reads", "2026-11-24");
    let (code, diff, stderr) = json(&repo, &["refs", "--base", "main"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(diff["base"], "main");
    assert_eq!(diff["base_commit"], main);
    let listed = |side: &str| -> Vec<String> {
        diff[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}:{}:{} {} | {}",
                    r["flag"].as_str().unwrap(),
                    r["archived"],
                    r["path"].as_str().unwrap(),
                    r["line"],
                    r["column"],
                    r["kind"].as_str().unwrap(),
                    r["text"].as_str().unwrap()
                )
            })
            .collect()
    };
    // Where the key is read depends on how the line is read (a call, with the parsers).
    let today = json(&repo, &["refs", "--no-history"]).1;
    let stale = &flag(&today, "stale")["references"][0];
    let (kind, column) = (stale["kind"].as_str().unwrap(), &stale["column"]);
    assert_eq!(
        listed("added"),
        [format!(
            "stale false src/app.py:3:{column} {kind} | enabled = client.get_boolean_value(\"stale\", False)"
        )]
    );
    assert_eq!(
        listed("removed"),
        [format!(
            "retired true src/app.py:2:{column} {kind} | enabled = client.get_boolean_value(\"retired\", False)"
        )]
    );

    let human = repo.flagctl(&["refs", "--base", "main"]).output().unwrap();
    let human = String::from_utf8(human.stdout).unwrap();
    assert!(human.starts_with("+ stale  src/app.py:3:"), "{human}");
    assert!(
        human.contains("\n- retired (archived)  src/app.py:2:"),
        "{human}"
    );
    assert!(
        human.ends_with(&format!(
            "1 reference added, 1 removed since main ({})\n",
            &main[..7]
        )),
        "{human}"
    );

    let github = repo
        .flagctl(&["refs", "--base", "main", "--format", "github"])
        .output()
        .unwrap();
    let github = String::from_utf8(github.stdout).unwrap();
    let lines: Vec<&str> = github.lines().collect();
    assert_eq!(lines.len(), 2, "{github}");
    assert!(
        lines[0].starts_with("::notice file=src/app.py,line=3,"),
        "{github}"
    );
    assert!(
        lines[1].starts_with("::notice title=flag retired removed::src/app.py:2 at main"),
        "{github}"
    );

    let bad = repo
        .flagctl(&["refs", "--base", "no-such-branch"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("--base no-such-branch: no such commit"),
        "{stderr}"
    );
}
