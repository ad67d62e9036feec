//! The fixture suite of `cleanup`, one test a language. Under
//! `tests/fixtures/cleanup/<language>/`, each `<case>.before.<ext>` is cleaned up with the
//! finished flags of `tests/fixtures/cleanup/flags.toml` and must give `<case>.after.<ext>`
//! exactly (a negative case has no after: it must stay as it is), and the table of its uses
//! must be `<case>.uses`. Every fixture, before and after, must compile or parse with the
//! language's own tool (`python3 -m py_compile`, `node --check`, `javac`, `gofmt -e` and
//! `go build`, `rustc --emit=metadata`); a tool that is missing fails the test when `CI` is
//! set, and is noted otherwise. Each test reports every mismatching case at once.
//!
//! `FLAGCTL_BLESS=1 cargo test --test cleanup_fixtures` writes the `.uses` files (review the
//! diff); the after files are written by hand.

// Notes on missing tools go to stderr.
#![allow(clippy::disallowed_macros)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use flagctl::cleanup::{Winner, plan_texts};
use flagctl::model::config::{CleanupRule, RefsConfig};
use flagctl::refs::{Target, scan_texts};
use serde::Deserialize;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cleanup")
}

#[derive(Deserialize)]
struct Flags {
    /// Finished flags: key = winning value (the variant is `winner`).
    winners: BTreeMap<String, serde_json::Value>,
    /// Flags that exist and are not cleaned up.
    others: Vec<String>,
    /// `[[cleanup.rules]]` as flagctl.toml would give them.
    #[serde(default)]
    rules: Vec<CleanupRule>,
}

fn flags() -> Flags {
    toml::from_str(&std::fs::read_to_string(root().join("flags.toml")).unwrap()).unwrap()
}

/// One case: its name, extension and the texts.
struct Case {
    name: String,
    file: String,
    before: String,
    after: String,
    uses: Option<String>,
}

fn cases(language: &str) -> Vec<Case> {
    let dir = root().join(language);
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some((name, extension)) = file.split_once(".before.") else {
            continue;
        };
        let read = |suffix: &str| std::fs::read_to_string(dir.join(format!("{name}{suffix}")));
        cases.push(Case {
            name: name.to_string(),
            file: format!("{name}.{extension}"),
            before: std::fs::read_to_string(&path).unwrap(),
            after: read(&format!(".after.{extension}"))
                .unwrap_or_else(|_| std::fs::read_to_string(&path).unwrap()),
            uses: read(".uses").ok(),
        });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The rewritten text and the use table of one case.
fn clean(case: &Case, flags: &Flags) -> (String, String) {
    let mut targets: Vec<Target> = flags
        .winners
        .keys()
        .chain(&flags.others)
        .map(|key| Target {
            key: key.clone(),
            archived: false,
        })
        .collect();
    targets.sort_by(|a, b| a.key.cmp(&b.key));
    let scan = scan_texts(
        &targets,
        &RefsConfig::default(),
        &[(case.file.as_str(), case.before.as_str())],
    )
    .unwrap();
    let winners = flags
        .winners
        .iter()
        .map(|(key, value)| Winner {
            key: key.clone(),
            variant: "winner".into(),
            value: value.clone(),
        })
        .collect();
    let before = case.before.clone();
    let plan = plan_texts(winners, &scan, &flags.rules, &move |_| Ok(before.clone())).unwrap();
    let after = plan
        .files
        .first()
        .map_or_else(|| case.before.clone(), |f| f.after.clone());
    let prefix = format!("{}:", case.file);
    let mut table: String = plan
        .table()
        .iter()
        .map(|line| line.strip_prefix(&prefix).unwrap_or(line).to_string() + "\n")
        .collect();
    for note in &plan.notes {
        table.push_str(&format!("note: {note}\n"));
    }
    (after, table)
}

/// Runs every case of `language`; then `check` on the texts (before and after, by file
/// name in a temporary folder). Panics listing every problem.
fn suite(language: &str, minimum: usize, check: fn(&Path, &[String]) -> Vec<String>) {
    let flags = flags();
    let cases = cases(language);
    let bless = std::env::var_os("FLAGCTL_BLESS").is_some();
    let mut problems = Vec::new();
    let rewritten = cases.iter().filter(|c| c.before != c.after).count();
    if rewritten < minimum {
        problems.push(format!(
            "{language}: {rewritten} cases rewrite something; at least {minimum} are wanted"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for case in &cases {
        let (after, table) = clean(case, &flags);
        if after != case.after {
            problems.push(format!(
                "{language}/{}: the rewrite differs from {}.after:\n{}",
                case.name,
                case.name,
                similar::TextDiff::from_lines(&case.after, &after)
                    .unified_diff()
                    .header("expected", "actual")
            ));
        }
        if bless {
            std::fs::write(
                root().join(language).join(format!("{}.uses", case.name)),
                &table,
            )
            .unwrap();
        } else if case.uses.as_deref() != Some(table.as_str()) {
            problems.push(format!(
                "{language}/{}: the uses differ from {}.uses:\n{}",
                case.name,
                case.name,
                similar::TextDiff::from_lines(case.uses.as_deref().unwrap_or(""), &table)
                    .unified_diff()
                    .header("expected", "actual")
            ));
        }
        for (stage, text) in [("before", &case.before), ("after", &after)] {
            let name = fixture_name(&case.file, stage);
            std::fs::write(dir.path().join(&name), text).unwrap();
            files.push(name);
        }
    }
    problems.extend(check(dir.path(), &files));
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// `case.ext` → `case_before.ext`: a name every tool accepts.
fn fixture_name(file: &str, stage: &str) -> String {
    let (stem, extension) = file.rsplit_once('.').unwrap();
    format!("{}_{stage}.{extension}", stem.replace('-', "_"))
}

/// Whether `program` can be run; when it cannot, a problem in CI, a note elsewhere.
fn have(program: &str, probe: &[&str], problems: &mut Vec<String>) -> bool {
    let runs = Command::new(program)
        .args(probe)
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok();
    if !runs {
        let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        let message = format!(
            "`{program}` is not installed: the fixtures are not checked with it (.ci/run installs it)"
        );
        if in_ci {
            problems.push(format!("{message}; CI must check them"));
        } else {
            eprintln!("note: {message}");
        }
    }
    runs
}

/// Runs a tool; its output is a problem when it fails.
fn run(dir: &Path, program: &str, args: &[String]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (!out.status.success()).then(|| {
        format!(
            "`{program} {}` failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn python(dir: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if have("python3", &["--version"], &mut problems) {
        let mut args = vec!["-m".to_string(), "py_compile".to_string()];
        args.extend(files.iter().cloned());
        problems.extend(run(dir, "python3", &args));
    }
    problems
}

fn javascript(dir: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if have("node", &["--version"], &mut problems) {
        // node checks JavaScript; TypeScript and TSX are checked by re-parsing alone.
        for file in files
            .iter()
            .filter(|f| f.ends_with(".js") || f.ends_with(".mjs"))
        {
            problems.extend(run(dir, "node", &["--check".to_string(), file.clone()]));
        }
    }
    problems
}

fn go(dir: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if have("gofmt", &["-l"], &mut problems) {
        let mut args = vec!["-e".to_string(), "-l".to_string()];
        args.extend(files.iter().cloned());
        problems.extend(run(dir, "gofmt", &args));
    }
    // The befores and the afters each build as a package, with the stubs of the SDK.
    if have("go", &["version"], &mut problems) {
        for stage in ["before", "after"] {
            let package = dir.join(stage);
            std::fs::create_dir_all(&package).unwrap();
            std::fs::write(package.join("go.mod"), "module fixtures\n\ngo 1.19\n").unwrap();
            std::fs::copy(root().join("go/stubs.go.txt"), package.join("stubs.go")).unwrap();
            for file in files.iter().filter(|f| f.contains(&format!("_{stage}."))) {
                std::fs::copy(dir.join(file), package.join(file)).unwrap();
            }
            // Kept between runs (target/tmp): a newer Go builds its standard library once.
            let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gocache");
            let out = Command::new("go")
                .args(["build", "./..."])
                .current_dir(&package)
                .env("GOCACHE", &cache)
                .env("GOFLAGS", "-mod=mod")
                .env("GO111MODULE", "on")
                .env("GOPROXY", "off")
                .output()
                .unwrap();
            if !out.status.success() {
                problems.push(format!(
                    "`go build` of the {stage} fixtures failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    problems
}

fn java(dir: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if have("javac", &["-version"], &mut problems) {
        std::fs::copy(root().join("java/Stubs.java.txt"), dir.join("Stubs.java")).unwrap();
        for stage in ["before", "after"] {
            let out = format!("classes_{stage}");
            let mut args = vec![
                "-d".to_string(),
                out,
                "-Xlint:none".to_string(),
                "Stubs.java".to_string(),
            ];
            args.extend(
                files
                    .iter()
                    .filter(|f| f.contains(&format!("_{stage}.")))
                    .cloned(),
            );
            problems.extend(run(dir, "javac", &args));
        }
    }
    problems
}

fn rust(dir: &Path, files: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    if have("rustc", &["--version"], &mut problems) {
        std::fs::copy(root().join("rust/stubs.rs.txt"), dir.join("stubs.rs")).unwrap();
        for stage in ["before", "after"] {
            let mut lib = String::from("#![allow(warnings)]\nmod stubs;\n");
            for file in files.iter().filter(|f| f.contains(&format!("_{stage}."))) {
                lib.push_str(&format!("mod {};\n", file.trim_end_matches(".rs")));
            }
            let name = format!("lib_{stage}.rs");
            std::fs::write(dir.join(&name), lib).unwrap();
            let args: Vec<String> = [
                "--edition",
                "2021",
                "--crate-type",
                "lib",
                "--emit=metadata",
                "--crate-name",
                stage,
                "--out-dir",
                "out",
                &name,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            problems.extend(run(dir, "rustc", &args));
        }
    }
    problems
}

#[test]
fn python_fixtures() {
    suite("python", 12, python);
}

#[test]
fn javascript_and_typescript_fixtures() {
    suite("javascript", 12, javascript);
}

#[test]
fn go_fixtures() {
    suite("go", 12, go);
}

#[test]
fn java_fixtures() {
    suite("java", 12, java);
}

#[test]
fn rust_fixtures() {
    suite("rust", 12, rust);
}
