//! The interactive paths, driven through a pseudo-terminal.

mod common;

use std::time::Duration;

use common::{TestRepo, example_repo};
use expectrl::{Expect, Session};

fn spawn(repo_dir: &std::path::Path, args: &[&str]) -> expectrl::session::OsSession {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin!("flagctl"));
    command
        .args(common::dated(args))
        .current_dir(repo_dir)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut session = Session::spawn(command).expect("spawn flagctl in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

#[test]
fn create_asks_for_what_is_missing() {
    let repo = TestRepo::initialised();
    let mut p = spawn(repo.path(), &["create", "--as-of", "2026-11-01"]);
    p.expect("Template").unwrap();
    p.send("\r").unwrap(); // the first template: experiment
    p.expect("Service").unwrap();
    p.send("\r").unwrap(); // no services yet: "a new service…"
    p.expect("New service name").unwrap();
    p.send("ranking\r").unwrap();
    p.expect("Owner").unwrap();
    p.send("ml@example.com\r").unwrap();
    p.expect("Flag key").unwrap();
    p.send("Bad Key\r").unwrap();
    p.expect("must start with a lowercase letter").unwrap();
    p.send("\u{15}ranker-v2\r").unwrap(); // ^U clears the rejected input
    p.expect("Description").unwrap();
    p.send("Route traffic to ranker v2\r").unwrap();
    p.expect("Created flags/ranking/ranker-v2.toml").unwrap();
    p.expect(expectrl::Eof).unwrap();

    let text = repo.read("flags/ranking/ranker-v2.toml");
    assert!(text.contains("kind = \"experiment\""), "{text}");
    assert!(text.contains("expires = 2026-12-01"), "{text}");
    assert!(
        text.contains("description = \"Route traffic to ranker v2\""),
        "{text}"
    );
    assert!(
        repo.last_commit_message()
            .starts_with("flagctl create: ranker-v2")
    );
}

#[test]
fn list_draws_a_table_in_a_terminal() {
    let root = example_repo();
    let mut p = spawn(&root, &["--as-of", "2026-11-25", "list"]);
    let found = p.expect("─").unwrap();
    assert!(!found.is_empty());
    p.expect("ranker-v2").unwrap();
}

#[test]
fn create_offers_declared_services_and_only_the_owners_they_allow() {
    let repo = TestRepo::initialised();
    repo.write(
        "flagctl.toml",
        "[owners.team-a]\n[owners.team-b]\n[services.ranking]\nowners = [\"team-b\"]\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "owners"]);
    let mut p = spawn(
        repo.path(),
        &["create", "--kind", "experiment", "--as-of", "2026-11-01"],
    );
    p.expect("ranking").unwrap(); // declared, though it has no flags yet
    p.send("\r").unwrap();
    let shown = p.expect("team-b").unwrap();
    let mut owners = String::from_utf8_lossy(shown.before()).into_owned();
    p.send("\r").unwrap();
    let shown = p.expect("Flag key").unwrap();
    owners.push_str(&String::from_utf8_lossy(shown.before()));
    assert!(
        !owners.contains("team-a"),
        "team-a may not own flags in ranking: {owners}"
    );

    // Ctrl-C in a selection prompt leaves the cursor visible.
    let mut p = spawn(repo.path(), &["create", "--kind", "experiment"]);
    p.expect("ranking").unwrap();
    p.send("\u{3}").unwrap(); // Ctrl-C
    p.expect("\u{1b}[?25h").unwrap(); // the cursor is shown again
    p.expect(expectrl::Eof).unwrap();
}
