//! Check tests driven by inline repositories: each writes a few flag files, audits them on a
//! fixed day and lists every finding as `rule severity flag:line`. Near misses sit beside
//! each violation; that they are absent from the list is part of the assertion.
//!
//! Messages are not asserted: rule, severity, flag and line are the contract.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate};

use super::{AuditCtx, RuleId, Severities, Sink, audit};
use crate::history::{Change, ChangeKind, CommitInfo, History};
use crate::repo::Repo;

/// The day every repository is audited on; the default `warn_days` is 7.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).expect("a valid date")
}

/// `text` with the indentation of every line removed and blank ends trimmed, so inline
/// TOML can be indented with the test.
fn toml(text: &str) -> String {
    text.trim()
        .lines()
        .map(|line| line.trim_start().to_owned() + "\n")
        .collect()
}

/// A flag file: the `head` lines first (line 1 on), then what every flag needs.
fn flag(head: &str) -> String {
    toml(head) + "description = \"test\"\ndefault = \"off\"\n[variants]\noff = false\non = true\n"
}

/// A live experiment, not near its expiry on [`today`]: `extra` is line 5.
fn experiment(extra: &str) -> String {
    flag(&format!(
        "kind = \"experiment\"\nowner = \"@ml\"\ncreated = 2026-11-20\nexpires = 2026-12-15\n{extra}"
    ))
}

/// A kill switch, not near its review on [`today`]: `extra` is line 5.
fn kill_switch(extra: &str) -> String {
    flag(&format!(
        "kind = \"kill-switch\"\nowner = \"@ml\"\ncreated = 2026-11-01\nreview_by = 2027-01-15\n{extra}"
    ))
}

/// An inline repository: `flagctl.toml` (the defaults when `None`), its flag files, and
/// the history that added them, when the test has one.
struct Inline {
    config: Option<&'static str>,
    /// Texts by path under `flags/`, without `.toml`: `search/a`, `_archive/search/b`.
    files: Vec<(String, String)>,
    history: Option<History>,
    refs: Option<crate::refs::Scan>,
    /// The references a change adds (`audit --refs --base`).
    added: Option<Vec<crate::refs::diff::RefChange>>,
}

impl Inline {
    fn new(config: Option<&'static str>, files: Vec<(impl Into<String>, String)>) -> Inline {
        Inline {
            config,
            files: files
                .into_iter()
                .map(|(path, text)| (path.into(), text))
                .collect(),
            history: None,
            refs: None,
            added: None,
        }
    }

    /// Every finding of the audit on [`today`], as `rule severity flag:line` (the path
    /// stands in for the flag of a file that has no key), in the audit's order.
    fn fired(&self) -> Vec<String> {
        let paths: Vec<String> = self
            .files
            .iter()
            .map(|(p, _)| format!("flags/{p}.toml"))
            .collect();
        let files: Vec<(&str, &str)> = paths
            .iter()
            .zip(&self.files)
            .map(|(path, (_, text))| (path.as_str(), text.as_str()))
            .collect();
        let repo = Repo::from_texts(self.config, &files).expect("the inline flagctl.toml is valid");
        let severities = Severities::from_config(&repo.config);
        let mut sink = Sink::new(&severities);
        let ctx = AuditCtx {
            repo: &repo,
            today: today(),
            history: self.history.as_ref(),
            refs: self.refs.as_ref(),
            added: self.added.as_deref(),
        };
        audit(&ctx, &mut sink);
        sink.into_findings()
            .into_iter()
            .map(|f| {
                let subject = f.flag.unwrap_or(f.path);
                format!(
                    "{} {} {subject}:{}",
                    f.rule.name(),
                    f.severity.name(),
                    f.line
                )
            })
            .collect()
    }
}

// ---- Files: invalid-flag, duplicate-key, unknown-kind --------------------------------

fn files_repo() -> Inline {
    Inline::new(
        Some(
            r#"
            [kinds.canary]
            temporary = true
            max_days = 30
            "#,
        ),
        vec![
            ("search/fine", experiment("")),
            ("search/unknown-key", experiment("colour = \"blue\"")),
            (
                "search/unparsable",
                toml(
                    r#"
                    kind = "experiment"
                    owner =
                    "#,
                ),
            ),
            ("loose", experiment("")),
            ("search/twin", experiment("")),
            ("_archive/ranking/twin", experiment("")),
            (
                "search/odd-kind",
                experiment("").replace("experiment", "experimnt"),
            ),
            (
                "search/declared-kind",
                experiment("").replace("experiment", "canary"),
            ),
        ],
    )
}

#[test]
fn files_that_do_not_fit_share_a_key_or_name_an_undeclared_kind() {
    assert_eq!(
        files_repo().fired(),
        [
            "duplicate-key error twin:1",
            "invalid-flag error flags/loose.toml:1",
            "unknown-kind error odd-kind:1",
            "duplicate-key error twin:1",
            "invalid-flag error unknown-key:5",
            "invalid-flag error unparsable:2",
        ]
    );
}

#[test]
fn every_problem_of_a_broken_file_is_reported_on_its_line() {
    let repo = Inline::new(
        None,
        vec![(
            "search/broken",
            flag(
                r#"
                kind = "experiment"
                ownr = "@ml"
                created = 2026-11-20
                expires = 2026-12-15
                colour = "blue"
                "#,
            ),
        )],
    );
    assert_eq!(
        repo.fired(),
        [
            "invalid-flag error broken:1",
            "invalid-flag error broken:2",
            "invalid-flag error broken:5",
        ]
    );
}

// ---- Owners: missing-owner, unknown-owner --------------------------------------------

fn owners_repo() -> Inline {
    let owned_by = |owner: &str| experiment("").replace("\"@ml\"", &format!("\"{owner}\""));
    Inline::new(
        Some(
            r#"
            [owners.team-a]
            [owners.team-b]
            [services.fraud]
            owners = ["team-a"]
            "#,
        ),
        vec![
            ("fraud/allowed", owned_by("team-a")),
            ("fraud/unowned", owned_by("")),
            ("fraud/blank", owned_by("  ")),
            ("fraud/stranger", owned_by("team-z")),
            ("fraud/outsider", owned_by("team-b")),
            ("search/anyone", owned_by("team-b")),
            ("_archive/fraud/gone", owned_by("team-z")),
        ],
    )
}

#[test]
fn owners_are_declared_and_allowed_in_the_service() {
    assert_eq!(
        owners_repo().fired(),
        [
            "missing-owner error blank:2",
            "unknown-owner error outsider:2",
            "unknown-owner error stranger:2",
            "missing-owner error unowned:2",
        ]
    );
}

#[test]
fn without_declared_owners_an_owner_is_an_email_or_a_handle() {
    let owned_by = |owner: &str| experiment("").replace("\"@ml\"", &format!("\"{owner}\""));
    let repo = Inline::new(
        None,
        vec![
            ("search/handle", owned_by("@search")),
            ("search/email", owned_by("search@example.com")),
            ("search/team", owned_by("team-search")),
        ],
    );
    assert_eq!(repo.fired(), ["unknown-owner error team:2"]);
}

// ---- Lifecycle: expiry, review and removal dates -------------------------------------

/// A flag of `kind` created on `created` whose deadline (`expires` or `review_by`) is on
/// line 4; `extra` is line 5.
fn dated(kind: &str, created: &str, deadline: &str, extra: &str) -> String {
    let field = if kind == "experiment" {
        "expires"
    } else {
        "review_by"
    };
    flag(&format!(
        "kind = \"{kind}\"\nowner = \"@ml\"\ncreated = {created}\n{field} = {deadline}\n{extra}"
    ))
}

fn expiry_files() -> Vec<(&'static str, String)> {
    let experiment = |created, expires| dated("experiment", created, expires, "");
    let concluded = |remove_by: &str| {
        let conclusion = format!(
            "conclusion = {{ date = 2026-10-20, winner = \"on\", remove_by = {remove_by} }}"
        );
        dated("experiment", "2026-10-01", "2026-10-31", &conclusion)
    };
    vec![
        ("search/expired", experiment("2026-10-30", "2026-11-24")),
        (
            "search/expires-today",
            experiment("2026-11-01", "2026-11-25"),
        ),
        (
            "search/expires-in-7",
            experiment("2026-11-10", "2026-12-02"),
        ),
        (
            "search/expires-in-8",
            experiment("2026-11-10", "2026-12-03"),
        ),
        (
            "search/lives-31-days",
            experiment("2026-11-20", "2026-12-21"),
        ),
        (
            "search/lives-30-days",
            experiment("2026-11-20", "2026-12-20"),
        ),
        ("search/removal-overdue", concluded("2026-11-24")),
        ("search/removal-today", concluded("2026-11-25")),
        ("_archive/search/archived", concluded("2026-10-01")),
    ]
}

#[test]
fn temporary_flags_expire_within_their_kind_and_concluded_ones_are_removed() {
    assert_eq!(
        Inline::new(None, expiry_files()).fired(),
        [
            "expired error expired:4",
            "expiring-soon warning expires-in-7:4",
            "expiring-soon warning expires-today:4",
            "expiry-too-long error lives-31-days:4",
            "removal-overdue error removal-overdue:5",
        ]
    );
}

fn review_files() -> Vec<(&'static str, String)> {
    let switch = |created, review_by| dated("kill-switch", created, review_by, "");
    vec![
        ("ops/review-overdue", switch("2026-09-01", "2026-11-24")),
        ("ops/review-today", switch("2026-09-01", "2026-11-25")),
        ("ops/review-in-7", switch("2026-11-01", "2026-12-02")),
        ("ops/review-in-8", switch("2026-11-01", "2026-12-03")),
        ("ops/review-91-days", switch("2026-11-01", "2027-01-31")),
        ("ops/review-90-days", switch("2026-11-01", "2027-01-30")),
        (
            "ops/reviewed-lately",
            flag(
                r#"
                kind = "kill-switch"
                owner = "@ml"
                created = 2026-06-01
                reviewed = 2026-11-20
                review_by = 2027-02-15
                "#,
            ),
        ),
    ]
}

#[test]
fn permanent_flags_are_reviewed_within_their_kind() {
    assert_eq!(
        Inline::new(None, review_files()).fired(),
        [
            "review-too-far error review-91-days:4",
            "review-due-soon warning review-in-7:4",
            "review-overdue error review-overdue:4",
            "review-due-soon warning review-today:4",
        ]
    );
}

#[test]
fn severities_follow_the_config() {
    let repo = Inline::new(
        Some(
            r#"
            [severity]
            expiring-soon = "error"
            expired = "off"
            "#,
        ),
        expiry_files(),
    );
    assert_eq!(
        repo.fired(),
        [
            "expiring-soon error expires-in-7:4",
            "expiring-soon error expires-today:4",
            "expiry-too-long error lives-31-days:4",
            "removal-overdue error removal-overdue:5",
        ]
    );
}

// ---- Services: service-limit ---------------------------------------------------------

fn services_repo() -> Inline {
    let parameter = |created| dated("parameter", created, "2027-01-15", "");
    Inline::new(
        Some(
            r#"
            [policy]
            max_flags_per_service = 3
            [services.small]
            max_flags = 2
            "#,
        ),
        vec![
            ("small/first", parameter("2026-11-01")),
            ("small/newest", parameter("2026-11-03")),
            ("small/second", parameter("2026-11-02")),
            ("_archive/small/retired", parameter("2026-11-04")),
            ("roomy/one", parameter("2026-11-01")),
            ("roomy/two", parameter("2026-11-02")),
            ("roomy/three", parameter("2026-11-03")),
        ],
    )
}

#[test]
fn a_service_over_its_limit_is_reported_on_its_newest_flag() {
    assert_eq!(services_repo().fired(), ["service-limit error newest:1"]);
}

// ---- Conflicts: conflict, layer-overlap ----------------------------------------------

fn conflicts_repo() -> Inline {
    let concluded = "conclusion = { date = 2026-11-22, winner = \"on\", remove_by = 2026-12-22 }";
    Inline::new(
        None,
        vec![
            // Declared on both sides: reported once, on the first key.
            (
                "a/declared-a",
                experiment("conflicts_with = [\"declared-b\"]"),
            ),
            (
                "a/declared-b",
                experiment("conflicts_with = [\"declared-a\"]"),
            ),
            // Declared against flags that are no longer live.
            (
                "a/versus-concluded",
                experiment("conflicts_with = [\"concluded\"]"),
            ),
            ("a/concluded", experiment(concluded)),
            (
                "a/versus-killed",
                experiment("conflicts_with = [\"killed\"]"),
            ),
            ("a/killed", experiment("state = \"disabled\"")),
            // One resource: shared without a layer, split by disjoint ranges, or permanent.
            ("b/ranker-1", experiment("controls = [\"model:ranker\"]")),
            ("b/ranker-2", experiment("controls = [\"model:ranker\"]")),
            (
                "b/ranker-param",
                kill_switch("controls = [\"model:ranker\"]"),
            ),
            (
                "b/scorer-left",
                experiment(
                    "controls = [\"model:scorer\"]\nlayer = { name = \"scoring\", range = [0, 50] }",
                ),
            ),
            (
                "b/scorer-right",
                experiment(
                    "controls = [\"model:scorer\"]\nlayer = { name = \"scoring\", range = [50, 100] }",
                ),
            ),
            // Layers: overlapping ranges, a range past 100, and a concluded flag's range.
            (
                "c/low",
                experiment("layer = { name = \"L\", range = [0, 60] }"),
            ),
            (
                "c/high",
                experiment("layer = { name = \"L\", range = [50, 100] }"),
            ),
            (
                "c/wide",
                experiment("layer = { name = \"M\", range = [90, 110] }"),
            ),
            (
                "c/done",
                experiment(&format!(
                    "layer = {{ name = \"L\", range = [0, 100] }}\n{concluded}"
                )),
            ),
        ],
    )
}

#[test]
fn live_flags_conflict_when_declared_or_sharing_a_resource_outside_one_layer() {
    assert_eq!(
        conflicts_repo().fired(),
        [
            "conflict error declared-a:5",
            "conflict error ranker-2:5",
            "layer-overlap error high:5",
            "layer-overlap error wide:5",
        ]
    );
}

// ---- Dependencies: missing-dependency, dependency-cycle, temporary-dependency ---------

fn dependencies_repo() -> Inline {
    let requires = |flag: &str, variant: &str| {
        format!("requires = [{{ flag = \"{flag}\", variant = \"{variant}\" }}]")
    };
    Inline::new(
        None,
        vec![
            ("a/base", kill_switch("")),
            ("a/needs-base", experiment(&requires("base", "on"))),
            ("a/needs-ghost", experiment(&requires("ghost", "on"))),
            ("a/needs-retired", experiment(&requires("retired", "on"))),
            ("_archive/a/retired", kill_switch("")),
            ("a/needs-maybe", experiment(&requires("base", "maybe"))),
            ("a/needs-broken", experiment(&requires("broken", "on"))),
            ("a/broken", toml("kind = \"experiment\"")),
            ("b/cycle-a", kill_switch(&requires("cycle-b", "on"))),
            ("b/cycle-b", kill_switch(&requires("cycle-c", "on"))),
            ("b/cycle-c", kill_switch(&requires("cycle-a", "on"))),
            ("c/switch", kill_switch(&requires("trial", "on"))),
            ("c/trial", experiment("")),
        ],
    )
}

#[test]
fn requirements_point_at_active_flags_without_cycles_or_temporary_ones() {
    assert_eq!(
        dependencies_repo().fired(),
        [
            // Five required keys missing, each its own finding.
            "invalid-flag error broken:1",
            "invalid-flag error broken:1",
            "invalid-flag error broken:1",
            "invalid-flag error broken:1",
            "invalid-flag error broken:1",
            "missing-dependency error needs-ghost:5",
            "missing-dependency error needs-maybe:5",
            "missing-dependency error needs-retired:5",
            "dependency-cycle error cycle-a:5",
            "temporary-dependency warning switch:5",
        ]
    );
}

// ---- Dependency shapes: dependency-depth, and every shape checked in linear time -----

/// Kill switches `{prefix}{i}` for `i` in `0..count`, in service `d` (allowed any number
/// of flags), each requiring the `width` after it; with `wrap`, the last ones require the
/// first ones, so the requirements close into cycles.
fn requiring_the_next(
    prefix: &str,
    count: usize,
    width: usize,
    wrap: bool,
) -> Vec<(String, String)> {
    let key = |i: usize| format!("{prefix}{i:05}");
    (0..count)
        .map(|i| {
            let targets: Vec<usize> = (i + 1..=i + width)
                .filter(|j| wrap || *j < count)
                .map(|j| j % count)
                .collect();
            let requires: Vec<String> = targets
                .iter()
                .map(|&j| format!("{{ flag = \"{}\", variant = \"on\" }}", key(j)))
                .collect();
            let requires = format!("requires = [{}]", requires.join(", "));
            (format!("d/{}", key(i)), kill_switch(&requires))
        })
        .collect()
}

const ANY_NUMBER_OF_FLAGS: &str = "[policy]\nmax_flags_per_service = 100000";

/// The rules each finding names, counted.
fn counted(findings: &[String]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for finding in findings {
        let rule = finding.split(' ').next().unwrap_or_default();
        match counts.iter_mut().find(|(name, _)| name == rule) {
            Some((_, count)) => *count += 1,
            None => counts.push((rule.to_owned(), 1)),
        }
    }
    counts
}

fn depth_repo() -> Inline {
    let mut files = requiring_the_next("chain", crate::eval::MAX_PREREQUISITE_DEPTH + 2, 1, false);
    // Each requires the next two: `wide00000` unfolds into 87 prerequisites,
    // `wide00001` into 53.
    files.extend(requiring_the_next("wide", 9, 2, false));
    Inline::new(Some(ANY_NUMBER_OF_FLAGS), files)
}

#[test]
fn requirements_stay_within_the_depth_and_fan_out_flagctl_evaluates() {
    assert_eq!(
        depth_repo().fired(),
        [
            "dependency-depth error chain00000:5",
            "dependency-depth error wide00000:5",
        ]
    );
    assert!(
        RuleId::DependencyDepth.help().contains(&format!(
            "at most {} levels",
            crate::eval::MAX_PREREQUISITE_DEPTH
        )) && RuleId::DependencyDepth.help().contains(&format!(
            "at most {} prerequisites",
            crate::eval::MAX_PREREQUISITES
        )),
        "the help names the engine's bounds"
    );
}

#[test]
fn hostile_shapes_are_checked_in_linear_time() {
    let shapes = [
        // A chain of 10,000: all but the last 17 are too deep.
        (
            requiring_the_next("f", 10_000, 1, false),
            vec![("dependency-depth", 9983)],
        ),
        // A cycle of 10,000: one finding, on its smallest key.
        (
            requiring_the_next("f", 10_000, 1, true),
            vec![("dependency-cycle", 1)],
        ),
        // Each of 30 requires the next two: 2^20 paths; the first 22 are too wide or deep.
        (
            requiring_the_next("f", 30, 2, false),
            vec![("dependency-depth", 22)],
        ),
        // Each of 40 requires the next four: the first 33 are too wide or deep.
        (
            requiring_the_next("f", 40, 4, false),
            vec![("dependency-depth", 33)],
        ),
        // Every flag of a chain of 2,000 also requires the first: 2,000 cycles share
        // one component, reported once.
        (
            requiring_the_next("f", 2_000, 1, false)
                .into_iter()
                .enumerate()
                .map(|(i, (path, text))| {
                    let text = text.replace(
                        "requires = [",
                        "requires = [{ flag = \"f00000\", variant = \"on\" }, ",
                    );
                    (
                        path,
                        if i + 1 == 2_000 {
                            text.replace(", ]", "]")
                        } else {
                            text
                        },
                    )
                })
                .collect(),
            vec![("dependency-cycle", 1)],
        ),
    ];
    for (files, expected) in shapes {
        let fired = Inline::new(Some(ANY_NUMBER_OF_FLAGS), files).fired();
        let expected: Vec<(String, usize)> = expected
            .into_iter()
            .map(|(rule, count)| (rule.to_owned(), count))
            .collect();
        assert_eq!(
            counted(&fired),
            expected,
            "{:?}",
            &fired[..fired.len().min(3)]
        );
    }
}

// ---- History: created-mismatch -------------------------------------------------------

/// A history in which one commit added each `(key, author time)`.
fn history(added: &[(&str, &str)]) -> History {
    let mut history = History::default();
    for (index, (key, time)) in added.iter().enumerate() {
        history.commits.push(CommitInfo {
            id: format!("{index:040x}"),
            time: Some(DateTime::parse_from_rfc3339(time).expect("an RFC 3339 time")),
            committed: None,
            author: "Test User".into(),
            summary: format!("flagctl create: {key}"),
        });
        history
            .flags
            .entry(key.to_string())
            .or_default()
            .push(Change {
                commit: index,
                kind: ChangeKind::Added,
                old_path: None,
                new_path: Some(format!("search/{key}.toml")),
                old_blob: None,
                new_blob: None,
            });
    }
    history
}

fn history_repo() -> Inline {
    let created = |date| dated("experiment", date, "2026-12-10", "");
    let mut repo = Inline::new(
        None,
        vec![
            ("search/forward-dated", created("2026-11-20")),
            ("search/same-day", created("2026-11-15")),
            ("search/back-dated", created("2026-11-10")),
            // The author's calendar date counts: 22:00 on the 15th in New York is the 16th
            // in UTC, and a flag created on the 16th is still dated after its commit.
            ("search/late-evening", created("2026-11-16")),
            ("search/uncommitted", created("2026-11-20")),
        ],
    );
    repo.history = Some(history(&[
        ("forward-dated", "2026-11-15T12:00:00+00:00"),
        ("same-day", "2026-11-15T12:00:00+00:00"),
        ("back-dated", "2026-11-15T12:00:00+00:00"),
        ("late-evening", "2026-11-15T22:00:00-05:00"),
    ]));
    repo
}

#[test]
fn a_flag_is_not_dated_after_the_commit_that_added_it() {
    assert_eq!(
        history_repo().fired(),
        [
            "created-mismatch error forward-dated:3",
            "created-mismatch error late-evening:3",
        ]
    );
}

#[test]
fn without_history_created_is_not_checked() {
    let mut repo = history_repo();
    repo.history = None;
    assert!(
        !repo
            .fired()
            .iter()
            .any(|f| f.starts_with("created-mismatch")),
        "{:?}",
        repo.fired()
    );
}

// ---- The catalogue -------------------------------------------------------------------

#[test]
fn every_published_rule_is_emitted_by_some_check() {
    let repos = [
        files_repo(),
        owners_repo(),
        Inline::new(None, expiry_files()),
        Inline::new(None, review_files()),
        services_repo(),
        conflicts_repo(),
        dependencies_repo(),
        depth_repo(),
        history_repo(),
        refs_repo(),
        finished_repo(),
        launched_repo(),
    ];
    let mut emitted: BTreeSet<String> = repos
        .iter()
        .flat_map(Inline::fired)
        .filter_map(|f| f.split_once(' ').map(|(rule, _)| rule.to_owned()))
        .collect();
    let invalid = crate::repo::Repo::from_texts(Some("[policy]\nwarn_dayz = 3\n"), &[])
        .expect_err("an invalid flagctl.toml");
    let invalid = invalid
        .downcast_ref::<crate::repo::ConfigError>()
        .expect("a configuration error");
    emitted.extend(
        crate::checks::config_findings(invalid)
            .iter()
            .map(|f| f.rule.name().to_owned()),
    );
    // `validate --flagd` reports what the portability analysis finds in a flagd file.
    let flagd = serde_json::json!({"flags": {"f": {"targeting": "on"}}});
    if !crate::export::unportable(&flagd).is_empty() {
        emitted.insert(RuleId::Portability.name().to_owned());
    }
    let published: BTreeSet<String> = RuleId::ALL.iter().map(|r| r.name().to_owned()).collect();
    let never_emitted: Vec<&String> = published.difference(&emitted).collect();
    assert!(
        never_emitted.is_empty(),
        "rules in the catalogue that no check reports: {never_emitted:?}"
    );
    assert!(emitted.is_subset(&published), "{emitted:?}");
}

#[test]
fn clean_flags_have_no_finding() {
    let repo = Inline::new(
        None,
        vec![
            ("search/experiment", experiment("")),
            ("ops/switch", kill_switch("")),
        ],
    );
    assert_eq!(repo.fired(), Vec::<String>::new());
}

// ---- Code references: unused-flag, archived-flag-referenced, unknown-flag-referenced,
// type-mismatch, default-mismatch ----------------------------------------------------

/// Flags and the Python code that reads them: every code rule fires once, on its line.
fn refs_repo() -> Inline {
    let threshold = toml(
        "kind = \"parameter\"\nowner = \"@ml\"\ncreated = 2026-11-01\nreview_by = 2027-01-15\n\
         description = \"t\"\ndefault = \"low\"\n[variants]\nlow = 0.2\nhigh = 0.5\n",
    );
    let mut repo = Inline::new(
        None,
        vec![
            ("search/used", experiment("")),
            ("search/unread", experiment("")),
            ("search/commented", experiment("")),
            ("search/threshold", threshold),
            ("_archive/search/old", experiment("")),
        ],
    );
    let code = toml(
        "# \"commented\" is only mentioned here\n\
         a = client.get_boolean_value(\"used\", False)\n\
         b = client.get_boolean_value(\"usd\", False)\n\
         c = client.get_boolean_value(\"threshold\", False)\n\
         d = client.get_float_value(\"threshold\", 0.2)\n\
         e = client.get_boolean_value(\"old\", False)\n\
         f = client.get_boolean_value(\"used\", True)\n",
    );
    let targets =
        ["commented", "old", "threshold", "unread", "used"].map(|key| crate::refs::Target {
            key: key.into(),
            archived: key == "old",
        });
    repo.refs = Some(
        crate::refs::scan_texts(&targets, &Default::default(), &[("app.py", &code)])
            .expect("a valid [refs] table"),
    );
    repo
}

#[test]
fn code_reads_live_flags_by_their_keys_types_and_defaults() {
    assert_eq!(
        refs_repo().fired(),
        [
            "unknown-flag-referenced error app.py:3",
            "type-mismatch error threshold:4",
            "archived-flag-referenced error old:6",
            "default-mismatch warning used:7",
            "unused-flag warning commented:1",
            "unused-flag warning unread:1",
        ]
    );
}

// ---- The uses a change adds: finished-flag-referenced --------------------------------

/// The flags of [`expiry_files`], a kill switch past its review, and a change to the code
/// that adds a use of each after a use of `expired` that was there before.
fn finished_repo() -> Inline {
    let mut files = expiry_files();
    files.extend(review_files().into_iter().take(1));
    let mut targets: Vec<crate::refs::Target> = files
        .iter()
        .map(|(path, _)| crate::refs::Target {
            key: path.rsplit('/').next().unwrap_or(path).to_string(),
            archived: path.starts_with("_archive/"),
        })
        .collect();
    targets.sort_by(|a, b| a.key.cmp(&b.key));
    let before = "a = get(\"expired\")\n";
    let after = toml(
        "a = get(\"expired\")\n\
         b = get(\"expired\")\n\
         c = get(\"expires-today\")\n\
         d = get(\"removal-today\")\n\
         e = get(\"removal-overdue\")\n\
         f = get(\"archived\")\n\
         g = get(\"review-overdue\")\n",
    );
    let scan = |code: &str| {
        crate::refs::scan_texts(&targets, &Default::default(), &[("app.py", code)])
            .expect("a valid [refs] table")
    };
    let mut repo = Inline::new(None, files);
    repo.added = Some(crate::refs::diff::diff(&scan(before), &scan(&after)).added);
    repo
}

#[test]
fn a_change_that_adds_a_use_of_an_expired_or_concluded_flag_fails() {
    let fired: Vec<String> = finished_repo()
        .fired()
        .into_iter()
        .filter(|f| f.starts_with("finished-flag-referenced"))
        .collect();
    assert_eq!(
        fired,
        [
            "finished-flag-referenced error expired:2",
            "finished-flag-referenced error removal-today:4",
            "finished-flag-referenced error removal-overdue:5",
        ]
    );
}

// ---- Launched: a live temporary flag serving one variant to everyone -----------------

fn launched_repo() -> Inline {
    let full = "[[rules]]\nname = \"all\"\nrollout = [{ variant = \"on\", weight = 100 }, { variant = \"off\", weight = 0 }]\n";
    let split = "[[rules]]\nrollout = [{ variant = \"on\", weight = 90 }, { variant = \"off\", weight = 10 }]\n";
    let qa = "[[rules]]\nwhen = [{ attr = \"email\", ends_with = \"@x.com\" }]\nserve = \"on\"\n";
    Inline::new(
        None,
        vec![
            // Line 10: the rule that serves `on` to everyone.
            ("search/rolled-out", experiment("") + full),
            (
                "search/agreeing",
                experiment("") + qa + "[[rules]]\nserve = \"on\"\n",
            ),
            // Near misses: a split, a rule with conditions, no rules, a kill, a
            // conclusion, a permanent flag, an archived flag.
            ("search/split", experiment("") + split),
            ("search/qa-only", experiment("") + qa),
            ("search/no-rules", experiment("")),
            ("search/killed", experiment("state = \"disabled\"") + full),
            (
                "search/concluded",
                experiment("")
                    + full
                    + "[conclusion]\ndate = 2026-11-20\nwinner = \"on\"\nremove_by = 2026-12-20\n",
            ),
            ("ops/switch", kill_switch("") + full),
            ("_archive/search/old", experiment("") + full),
        ],
    )
}

#[test]
fn a_temporary_flag_serving_one_variant_to_everyone_is_launched() {
    assert_eq!(
        launched_repo().fired(),
        [
            "launched warning agreeing:13",
            "launched warning rolled-out:10",
        ]
    );
}
