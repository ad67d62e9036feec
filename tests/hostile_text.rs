//! Text a pull request controls (owners, descriptions, file names, commit subjects and
//! authors, flagctl.toml) never reaches the terminal or the CI log raw: no control
//! character but line breaks and tabs, no terminal escape, no line that starts a CI
//! workflow command.

mod common;

use std::process::Command;

use common::TestRepo;

/// A line break then a workflow command, a carriage return, an OSC 52 clipboard write, a
/// screen clear, a C1 control, a line separator and a bidi override.
const HOSTILE: &str = "x\\n::error file=a,line=1::forged\\r\\u001b]52;c;ZXZpbA==\\u0007\\u001b[2J\\u0085\\u2028\\u202e";

/// The same, decoded, for file names and commit metadata.
const HOSTILE_RAW: &str = "x\n::error::forged\r\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{85}\u{2028}";

fn hostile_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "");
    let flag = format!(
        "description = \"{HOSTILE}\"\nkind = \"experiment\"\nowner = \"{HOSTILE}\"\ncreated = 2026-11-20\n\
         expires = 2026-11-24\ndefault = \"off\"\n\n[variants]\noff = false\non = true\n"
    );
    repo.write("flags/search/alpha.toml", &flag);
    repo.write(
        &format!("flags/search/{}.toml", HOSTILE_RAW.replace('/', "_")),
        "description = 1\n",
    );
    repo.write(
        "flags/search/bad.toml",
        &format!("description = \"{HOSTILE}\"\nownr = 3\n\u{1b}]52;c;x\u{7}\n"),
    );
    repo.git(&["add", "-A"]);
    let out = Command::new("git")
        .args(["commit", "-q", "-m", HOSTILE_RAW])
        .env("GIT_AUTHOR_NAME", HOSTILE_RAW.replace('\n', " "))
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo
}

/// Fails on a raw control character (but `\n` and `\t`), a bidi override, a line
/// separator, or a line that starts a workflow command.
fn assert_inert(what: &str, text: &str) {
    for (index, c) in text.char_indices() {
        let hidden = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}');
        assert!(
            !hidden,
            "{what}: raw {c:?} at {index}: {:?}",
            &text[text.floor_char_boundary(index.saturating_sub(40))
                ..text.floor_char_boundary((index + 10).min(text.len()))]
        );
    }
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "{what}: a line starts a workflow command: {line:?}"
        );
    }
}

fn outputs(repo: &TestRepo, args: &[&str]) -> (String, String) {
    let out = repo
        .flagctl(args)
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn human_output_never_carries_raw_control_characters() {
    let repo = hostile_repo();
    for args in [
        vec!["validate"],
        vec!["audit"],
        vec!["list"],
        vec!["show", "alpha"],
        vec!["history", "alpha"],
        vec!["remind", "--within", "30"],
        vec!["remind", "--within", "30", "--format", "markdown"],
        vec!["eval", "alpha", "--explain"],
        vec!["kill", "nope", "--reason", HOSTILE_RAW],
    ] {
        let (stdout, stderr) = outputs(&repo, &args);
        assert_inert(&format!("{args:?} stdout"), &stdout);
        assert_inert(&format!("{args:?} stderr"), &stderr);
    }
}

#[test]
fn github_annotations_are_the_only_workflow_commands() {
    let repo = hostile_repo();
    let (stdout, stderr) = outputs(&repo, &["audit", "--format", "github"]);
    assert_inert("stderr", &stderr);
    for line in stdout.lines() {
        assert!(
            ["::error ", "::warning ", "::notice "]
                .iter()
                .any(|start| line.starts_with(start)),
            "{line:?}"
        );
        // The message may mention `::` (it is data after the command's own `::`), but a
        // line break inside it is encoded, so it cannot begin another command.
    }
    let stripped: String = stdout.lines().collect::<Vec<_>>().join(" ");
    assert_inert("annotations", &stripped.replace("::", ""));
}

#[test]
fn a_hostile_config_error_is_inert_in_every_format() {
    let repo = TestRepo::new();
    repo.write(
        "flagctl.toml",
        &format!("[owners.\"{HOSTILE}\"]\ncontact = 3\n\u{1b}]52;c;x\u{7} = 1\n"),
    );
    for format in ["human", "json", "sarif", "junit"] {
        let (stdout, stderr) = outputs(&repo, &["audit", "--format", format]);
        assert_inert(&format!("{format} stdout"), &stdout);
        assert_inert(&format!("{format} stderr"), &stderr);
    }
    let (stdout, stderr) = outputs(&repo, &["audit", "--format", "github"]);
    assert_inert("github stderr", &stderr);
    assert!(
        stdout.lines().all(|l| l.starts_with("::error ")),
        "{stdout}"
    );
}

#[test]
fn junit_stays_well_formed_and_sarif_uris_are_encoded() {
    let repo = hostile_repo();
    repo.write("flags/search/a b#1%.toml", "description = 1\n");
    let (junit, _) = outputs(&repo, &["audit", "--format", "junit"]);
    let mut reader = quick_xml::Reader::from_str(&junit);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML: {e}\n{junit}"),
        }
    }
    assert!(
        !junit.contains('\u{1b}') && !junit.contains('\0'),
        "{junit}"
    );
    let (sarif, _) = outputs(&repo, &["audit", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"flags/search/a%20b%231%25.toml"), "{uris:?}");
    assert!(
        uris.iter()
            .all(|u| !u.contains([' ', '#', '?', '\n', '\u{1b}'])),
        "{uris:?}"
    );
}

#[test]
fn diagnostics_of_a_huge_broken_file_stay_small() {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", "");
    let long_line = format!("description = \"{}\"\n", "y".repeat(70_000));
    let mut text = long_line.clone();
    for index in 0..3_000 {
        text.push_str(&format!("unknown_{index} = 1\n"));
    }
    repo.write("flags/search/huge.toml", &text);
    repo.write("flags/search/long.toml", &format!("{long_line}ownr = 1\n"));
    let config = format!("[owners.\"{}\"]\nbogus = 1\n", "z".repeat(50_000));
    for args in [vec!["validate"], vec!["audit"]] {
        let (stdout, stderr) = outputs(&repo, &args);
        assert!(
            stdout.len() + stderr.len() < 64 * 1024,
            "{args:?}: {} bytes",
            stdout.len() + stderr.len()
        );
        assert!(
            stdout.contains("more in flags/search/huge.toml"),
            "{stdout}"
        );
    }
    repo.write("flagctl.toml", &config);
    let (stdout, stderr) = outputs(&repo, &["validate"]);
    assert!(
        stdout.len() + stderr.len() < 64 * 1024,
        "{}",
        stdout.len() + stderr.len()
    );
}
