//! End to end: `flagctl refs` and `audit --refs` in temporary git repositories: what the
//! walk reads and leaves out, hostile trees and configuration, and the code rules.

mod common;

use common::{TestRepo, experiment};
use serde_json::Value;

fn repo_with_flag(key: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        &format!("flags/app/{key}.toml"),
        &experiment("@ml", "2026-11-01", "2026-12-20"),
    );
    repo
}

fn refs_json(repo: &TestRepo, args: &[&str]) -> Value {
    let out = repo
        .flagctl(&[&["--format", "json", "refs"], args].concat())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What `flagctl ARGS` prints on stdout and on stderr.
fn printed(repo: &TestRepo, args: &[&str]) -> (String, String) {
    let out = repo.flagctl(args).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `path:line:kind` of every reference to `key`.
fn places(json: &Value, key: &str) -> Vec<String> {
    json["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == key)
        .unwrap_or_else(|| panic!("no flag {key} in {json}"))["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}:{}",
                r["path"].as_str().unwrap(),
                r["line"],
                r["kind"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn ignored_binary_and_oversized_files_are_left_out_and_the_flags_folder_is_not_code() {
    let repo = repo_with_flag("ranker-v2");
    repo.write(".gitignore", "build/\n");
    repo.write("build/gen.txt", "use(\"ranker-v2\")\n");
    repo.write(".ignore", "scratch/\n");
    repo.write("scratch/notes.txt", "'ranker-v2'\n");
    std::fs::create_dir_all(repo.path().join("app")).unwrap();
    std::fs::write(repo.path().join("app/model.bin"), b"\0\x01\"ranker-v2\"").unwrap();
    repo.write("app/main.txt", "first\nflag = \"ranker-v2\"\n");
    let json = refs_json(&repo, &[]);
    assert_eq!(places(&json, "ranker-v2"), ["app/main.txt:2:text"]);
    assert_eq!(json["files"], 1, "{json}");
}

#[test]
fn non_utf8_files_are_read_and_shown_without_raw_bytes() {
    let repo = repo_with_flag("ranker-v2");
    std::fs::create_dir_all(repo.path().join("app")).unwrap();
    std::fs::write(
        repo.path().join("app/latin1.txt"),
        b"caf\xe9 = \"ranker-v2\" \x1b[31m\n",
    )
    .unwrap();
    let json = refs_json(&repo, &[]);
    assert_eq!(places(&json, "ranker-v2"), ["app/latin1.txt:1:text"]);
    let text = json["flags"][0]["references"][0]["text"].as_str().unwrap();
    assert!(text.contains('\u{fffd}'), "{text}");
    let human = repo.flagctl(&["refs"]).output().unwrap();
    assert!(
        !human.stdout.contains(&0x1b),
        "a raw escape reached the terminal"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_never_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.py"), "x = \"ranker-v2\"\n").unwrap();
    let repo = repo_with_flag("ranker-v2");
    std::fs::create_dir_all(repo.path().join("app")).unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join("app/linked-dir")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.py"),
        repo.path().join("app/linked.py"),
    )
    .unwrap();
    let json = refs_json(&repo, &[]);
    assert_eq!(places(&json, "ranker-v2"), Vec::<String>::new());
    assert_eq!(json["files"], 0, "{json}");
}

#[test]
fn paths_outside_the_repository_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let repo = repo_with_flag("ranker-v2");
    let out = repo
        .flagctl(&["refs", outside.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("outside the repository"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo.write("flagctl.toml", "[refs]\npaths = [\"../elsewhere\"]\n");
    let out = repo.flagctl(&["refs"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside the repository"));
}

#[test]
fn a_bad_refs_table_is_refused_with_its_line() {
    let repo = repo_with_flag("ranker-v2");
    repo.write(
        "flagctl.toml",
        "flags_dir = \"flags\"\n[refs]\npatterns = ['flag\\((?P<name>\\w+)\\)', '(']\ndelimiters = [\"\"]\ncase_forms = [\"shouting\"]\n",
    );
    let out = repo.flagctl(&["refs"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("flagctl.toml"), "{text}");
    assert!(text.contains("shouting"), "{text}");
}

#[test]
fn patterns_aliases_and_case_forms_find_in_house_uses() {
    let repo = repo_with_flag("ranker-v2");
    repo.write(
        "flagctl.toml",
        "[refs]\naliases = { ranker-v2 = [\"NEXT_RANKER\"] }\npatterns = ['feature\\((?P<key>[a-z0-9-]+)\\)']\n",
    );
    repo.write(
        "app/main.txt",
        "a = feature(ranker-v2)\nb = NEXT_RANKER\nc = RANKER_V2\nd = feature(rankr-v2)\n",
    );
    let json = refs_json(&repo, &[]);
    assert_eq!(
        places(&json, "ranker-v2"),
        [
            "app/main.txt:1:pattern",
            "app/main.txt:2:alias",
            "app/main.txt:3:alias"
        ]
    );
    assert_eq!(json["unknown"][0]["key"], "rankr-v2");
    assert_eq!(json["unknown"][0]["did_you_mean"], "ranker-v2");
    assert_eq!(json["unknown"][0]["line"], 4);
}

#[test]
fn refs_paths_narrow_the_scan() {
    let repo = repo_with_flag("ranker-v2");
    repo.write("a/x.txt", "\"ranker-v2\"\n");
    repo.write("b/y.txt", "\"ranker-v2\"\n");
    let json = refs_json(&repo, &["b"]);
    assert_eq!(places(&json, "ranker-v2"), ["b/y.txt:1:text"]);
    repo.write("flagctl.toml", "[refs]\npaths = [\"a\"]\n");
    let json = refs_json(&repo, &[]);
    assert_eq!(places(&json, "ranker-v2"), ["a/x.txt:1:text"]);
}

/// A git repository holding the fixture tree of `tests/fixtures/refs`: flags, and a
/// service per language that reads them (`generated/` is ignored, `assets/` binary).
fn fixture() -> TestRepo {
    let repo = TestRepo::new();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/refs");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(source.join("."))
        .arg(repo.path())
        .status()
        .unwrap();
    assert!(status.success());
    repo.commit_all_at("fixture", "2026-11-20");
    repo
}

#[test]
fn every_language_fixture_gives_exactly_the_expected_references() {
    let repo = fixture();
    let json = refs_json(&repo, &[]);
    insta::assert_json_snapshot!("refs_fixture", json);
}

#[test]
fn audit_refs_reports_each_code_rule_on_its_flag_and_line() {
    let repo = fixture();
    let out = repo
        .flagctl(&["--format", "json", "audit", "--refs"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{}",
                f["rule"].as_str().unwrap(),
                f["flag"].as_str().unwrap_or("-"),
                f["path"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect();
    insta::assert_debug_snapshot!("refs_fixture_audit", findings);
}

/// The example repository with its services, in a git repository of its own.
fn example_with_services() -> TestRepo {
    let repo = TestRepo::new();
    common::copy_example(repo.path());
    let root = common::example_repo();
    std::fs::create_dir_all(repo.path().join("examples")).unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(root.join("examples/services"))
        .arg(repo.path().join("examples"))
        .status()
        .unwrap();
    assert!(status.success());
    repo.commit_all_at("example", "2026-11-20");
    repo
}

#[test]
fn refs_and_audit_refs_of_the_example_read_as_people_see_them() {
    let repo = example_with_services();
    let refs = repo.flagctl(&["refs"]).output().unwrap();
    assert!(refs.status.success());
    insta::assert_snapshot!(
        "example_refs_human",
        String::from_utf8(refs.stdout).unwrap()
    );
    let audit = repo
        .flagctl(&[
            "audit",
            "--refs",
            "--allow",
            "expiring-soon",
            "--allow",
            "review-due-soon",
        ])
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(1));
    let text = String::from_utf8(audit.stdout).unwrap();
    for rule in [
        "unused-flag",
        "archived-flag-referenced",
        "unknown-flag-referenced",
        "type-mismatch",
        "default-mismatch",
    ] {
        assert!(
            text.contains(&format!("[{rule}]")),
            "{rule} missing:\n{text}"
        );
    }
    insta::assert_snapshot!("example_audit_refs_human", text);
}

#[test]
fn every_flag_file_is_scanned_for_however_the_folder_is_laid_out() {
    // The flag files are listed as a load lists them, not read: a misplaced file, an
    // archived flag and a flag file that does not parse are flags all the same.
    let repo = repo_with_flag("ranker-v2");
    repo.write(
        "flags/_archive/app/old-ranker.toml",
        &experiment("@ml", "2026-10-01", "2026-10-20"),
    );
    repo.write("flags/app/broken.toml", "description = \n");
    repo.write(
        "flags/stray.toml",
        &experiment("@ml", "2026-11-01", "2026-12-20"),
    );
    repo.write(
        "app/main.txt",
        "a = \"ranker-v2\"\nb = \"old-ranker\"\nc = \"broken\"\nd = \"stray\"\n",
    );
    let json = refs_json(&repo, &[]);
    assert_eq!(places(&json, "ranker-v2"), ["app/main.txt:1:text"]);
    assert_eq!(places(&json, "old-ranker"), ["app/main.txt:2:text"]);
    assert_eq!(places(&json, "broken"), ["app/main.txt:3:text"]);
    assert_eq!(places(&json, "stray"), ["app/main.txt:4:text"]);
    let archived: Vec<&str> = json["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["archived"] == true)
        .map(|f| f["flag"].as_str().unwrap())
        .collect();
    assert_eq!(archived, ["old-ranker"]);
}

/// Thousands of uses on one line of megabytes: each reference shows the line near its
/// use, and the line is read once, not once a use; a file naming flags more than 10,000
/// times is left out with a note, not listed use by use.
#[test]
fn long_lines_and_generated_files_cost_what_they_hold() {
    let repo = repo_with_flag("ranker-v2");
    let line = |uses: usize| format!("X = [{}]\n", vec!["\"ranker-v2\""; uses].join(","));
    repo.write("app/long.py", &line(5_000));
    repo.write("gen/huge.py", &line(12_000));
    let json = refs_json(&repo, &[]);
    let references = json["flags"][0]["references"].as_array().unwrap();
    assert_eq!(references.len(), 5_000, "{}", references[0]);
    assert!(references.iter().all(|r| r["path"] == "app/long.py"));
    let last = &references[4_999];
    assert_eq!(last["column"], 7 + 4_999 * 12, "{last}");
    let text = last["text"].as_str().unwrap();
    assert!(
        text.starts_with('…') && text.contains("\"ranker-v2\""),
        "{text}"
    );
    assert!(text.chars().count() <= 302, "{}", text.chars().count());
    let skipped = json["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{json}");
    assert_eq!(skipped[0]["path"], "gen/huge.py");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("names flags 12000 times"),
        "{}",
        skipped[0]
    );
}

/// A file name with a line break cannot forge lines of the output: it is noted, escaped,
/// and not read.
#[cfg(unix)]
#[test]
fn a_file_name_with_a_line_break_is_noted_escaped() {
    let repo = repo_with_flag("ranker-v2");
    repo.write("app/z\n::error file=x::forged\n.py", "x = \"ranker-v2\"\n");
    repo.write("app/ok.py", "x = \"ranker-v2\"\n");
    let out = repo.flagctl(&["refs"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let all = format!("{stdout}{stderr}");
    assert!(
        !all.lines().any(|line| line.starts_with("::error")),
        "{all}"
    );
    assert!(all.contains("app/z\\n::error"), "{all}");
    assert!(stdout.contains("app/ok.py:1"), "{stdout}");
    let json = refs_json(&repo, &[]);
    assert_eq!(places(&json, "ranker-v2"), ["app/ok.py:1:string"]);
}

/// What code and history hold is shown on one line: a default argument that spans lines,
/// a file name with a line break in a commit, a commit summary and author are never
/// printed with a raw line break that could forge a line of the output.
#[cfg(unix)]
#[test]
fn code_and_history_forge_no_line_of_the_output() {
    let repo = repo_with_flag("ranker-v2");
    repo.write(
        "app/main.py",
        "x = client.get_string_value(\"ranker-v2\", \"\"\"\nfake-flag: 1 use\n\"\"\", ctx)\n",
    );
    repo.write("app/z\nranker-v2: forged.py", "x = \"ranker-v2\"\n");
    repo.commit_all_at(
        "a use in a file with a line break in its name",
        "2026-11-01",
    );
    std::fs::remove_file(repo.path().join("app/z\nranker-v2: forged.py")).unwrap();
    repo.git(&["add", "-A"]);
    repo.commit_all_at("remove it\n\nforged: body", "2026-11-02");
    for args in [&["refs"][..], &["refs", "--base", "HEAD~1"]] {
        let (stdout, _) = printed(&repo, args);
        assert!(
            !stdout
                .lines()
                .any(|line| line.starts_with("fake-flag") || line.starts_with("ranker-v2: forged")),
            "{args:?}:\n{stdout}"
        );
    }
    let (stdout, _) = printed(&repo, &["refs"]);
    assert!(
        stdout.contains("(default \"\"\" fake-flag: 1 use \"\"\")"),
        "{stdout}"
    );
}

/// The gate says what it could not read: a source file left out (a control character in
/// its name) is a note of `audit --refs` in every format, and `skipped` holds its real
/// name, escaped by JSON alone.
#[cfg(unix)]
#[test]
fn audit_refs_notes_the_files_it_left_out() {
    let repo = repo_with_flag("ranker-v2");
    repo.write(
        "app/b\u{1b}[31m.py",
        "x = client.get_boolean_value(\"rankr-v2\", True)\n",
    );
    let out = repo
        .flagctl(&["--format", "json", "audit", "--refs"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = json["notes"].to_string();
    assert!(notes.contains("app/b\\\\u{1b}[31m.py left out"), "{notes}");
    let (_, stderr) = printed(&repo, &["audit", "--refs"]);
    assert!(stderr.contains("app/b\\u{1b}[31m.py left out"), "{stderr}");
    assert_eq!(
        refs_json(&repo, &[])["skipped"][0]["path"],
        "app/b\u{1b}[31m.py"
    );
}

/// The flags folder is not code where a symlink leads it either; a flag mentioned only in
/// comments is one no code reads; a folder of `[refs] paths` that is not there is a note.
#[cfg(unix)]
#[test]
fn the_flags_folder_behind_a_symlink_is_not_code_and_comments_are_no_use() {
    let repo = repo_with_flag("ranker-v2");
    repo.write(
        "flags/app/ranker-v3.toml",
        "description = \"next\"\nkind = \"experiment\"\nowner = \"@ml\"\ncreated = 2026-11-01\nexpires = 2026-12-20\ndefault = \"off\"\nrequires = [{ flag = \"ranker-v2\", variant = \"on\" }]\n[variants]\noff = false\non = true\n",
    );
    repo.write("app/a.py", "# \"ranker-v3\" is next\n");
    std::fs::rename(repo.path().join("flags"), repo.path().join("real-flags")).unwrap();
    std::os::unix::fs::symlink("real-flags", repo.path().join("flags")).unwrap();
    let json = refs_json(&repo, &[]);
    assert_eq!(places(&json, "ranker-v2"), Vec::<String>::new());
    assert_eq!(places(&json, "ranker-v3"), ["app/a.py:1:comment"]);
    let (stdout, _) = printed(&repo, &["refs"]);
    assert!(
        stdout.contains("active flags no code reads: ranker-v2, ranker-v3"),
        "{stdout}"
    );

    repo.write("flagctl.toml", "[refs]\npaths = [\"app\", \"srcc\"]\n");
    let (_, stderr) = printed(&repo, &["refs"]);
    assert!(
        stderr.contains("[refs] paths: `srcc` does not exist"),
        "{stderr}"
    );
}

/// A flag file whose name holds a line break is a problem under its escaped name, and
/// the name forges no line wherever it is shown.
#[cfg(unix)]
#[test]
fn a_flag_file_name_with_a_line_break_forges_no_line() {
    let repo = repo_with_flag("ranker-v2");
    repo.write(
        "flags/app/x\n0 errors, 0 warnings in 1 flag file.toml",
        &experiment("@ml", "2026-11-01", "2026-12-20"),
    );
    for args in [&["refs"][..], &["validate"], &["audit"], &["list"]] {
        let (stdout, stderr) = printed(&repo, args);
        let all = format!("{stdout}{stderr}");
        assert!(
            !all.lines().any(|line| line.starts_with("0 errors")),
            "{args:?}:\n{all}"
        );
    }
    let (stdout, _) = printed(&repo, &["validate"]);
    assert!(
        stdout.contains("its name holds a control character; rename it"),
        "{stdout}"
    );
}
