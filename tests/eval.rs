//! End-to-end tests of eval, simulate and export in temporary git repositories.

mod common;

use common::TestRepo;
use predicates::prelude::*;
use serde_json::{Value, json};

const CONFIG: &str = r#"
[owners.team-ml]
contact = "ml@example.com"

[segments.sg-users]
when = [{ attr = "country", in = ["SG"] }]

[segments.internal]
when = [{ attr = "email", ends_with = "@example.com" }]

[segments.modern-app]
when = [{ attr = "app.version", semver_gte = "2.0.0" }]
"#;

/// A flag file: `kind` with its date, then `body` (which declares default, variants and
/// rules).
fn flag(kind: &str, body: &str) -> String {
    let date = if kind == "kill-switch" || kind == "parameter" {
        "review_by = 2027-01-30"
    } else {
        "expires = 2026-11-30"
    };
    format!(
        "description = \"test flag\"\nkind = \"{kind}\"\nowner = \"team-ml\"\ncreated = 2026-11-01\n{date}\n{body}"
    )
}

const ON_OFF: &str = "default = \"off\"\n[variants]\noff = false\non = true\n";

/// Every condition operator, segments, a layer, prerequisites (one through a rollout),
/// a disabled and a concluded flag.
fn flags() -> Vec<(&'static str, String)> {
    vec![
        (
            "ranking-switch",
            flag(
                "kill-switch",
                &format!("{ON_OFF}[[rules]]\nname = \"everyone\"\nserve = \"on\"\n"),
            ),
        ),
        (
            "ranker-v2",
            flag(
                "experiment",
                r#"requires = [{ flag = "ranking-switch", variant = "on" }]
default = "baseline"
[variants]
baseline = { model = "ranker", version = "1.4.0" }
candidate = { model = "ranker", version = "2.0.0" }

[[rules]]
name = "qa-accounts"
segment = "internal"
serve = "candidate"

[[rules]]
name = "sg-10pct"
segment = "sg-users"
rollout = [{ variant = "candidate", weight = 10 }, { variant = "baseline", weight = 90 }]
bucket_by = "user_id"
"#,
            ),
        ),
        (
            "layer-low",
            flag(
                "experiment",
                &format!(
                    "layer = {{ name = \"exp\", range = [0, 40] }}\n{ON_OFF}\
                     [[rules]]\nsegment = \"modern-app\"\nwhen = [{{ attr = \"country\", ne = \"ID\" }}]\n\
                     rollout = [{{ variant = \"on\", weight = 1 }}, {{ variant = \"off\", weight = 1 }}]\n"
                ),
            ),
        ),
        (
            "layer-high",
            flag(
                "experiment",
                &format!(
                    "layer = {{ name = \"exp\", range = [40, 100] }}\n{ON_OFF}\
                     [[rules]]\nwhen = [{{ attr = \"age\", gte = 18 }}, {{ attr = \"age\", lt = 65 }}]\nserve = \"on\"\n"
                ),
            ),
        ),
        (
            "killed",
            flag(
                "operational",
                &format!("state = \"disabled\"\n{ON_OFF}[[rules]]\nserve = \"on\"\n"),
            ),
        ),
        (
            "needs-killed",
            flag(
                "experiment",
                &format!(
                    "requires = [{{ flag = \"killed\", variant = \"off\" }}]\n{ON_OFF}[[rules]]\nserve = \"on\"\n"
                ),
            ),
        ),
        (
            "needs-candidate",
            flag(
                "experiment",
                &format!(
                    "requires = [{{ flag = \"ranker-v2\", variant = \"candidate\" }}]\n{ON_OFF}\
                     [[rules]]\nwhen = [{{ attr = \"tier\", not_in = [\"free\"] }}]\nserve = \"on\"\n"
                ),
            ),
        ),
        (
            "concluded",
            flag(
                "experiment",
                "default = \"a\"\n[variants]\na = 1\nb = 2\n\
                 [[rules]]\nrollout = [{ variant = \"a\", weight = 50 }, { variant = \"b\", weight = 50 }]\n\
                 [conclusion]\ndate = 2026-11-20\nwinner = \"b\"\nremove_by = 2026-12-20\n",
            ),
        ),
        (
            "string-ops",
            flag(
                "parameter",
                r#"default = "none"
[variants]
none = "none"
eq = "eq"
ne = "ne"
in = "in"
starts = "starts"
ends = "ends"
contains = "contains"
not-in = "not-in"

[[rules]]
when = [{ attr = "country", eq = "DE" }]
serve = "eq"
[[rules]]
when = [{ attr = "email", starts_with = "admin" }]
serve = "starts"
[[rules]]
when = [{ attr = "email", ends_with = ".org" }]
serve = "ends"
[[rules]]
when = [{ attr = "email", contains = "bob" }]
serve = "contains"
[[rules]]
when = [{ attr = "country", in = ["MY", "ID"] }]
serve = "in"
[[rules]]
when = [{ attr = "tier", ne = "gold" }, { attr = "tier", not_in = ["free", "trial"] }]
serve = "not-in"
[[rules]]
when = [{ attr = "tier", ne = "silver" }]
serve = "ne"
"#,
            ),
        ),
        (
            "number-ops",
            flag(
                "parameter",
                r#"default = "mid"
[variants]
young = 0.1
mid = 0.5
old = 0.9
exact = 0.3

[[rules]]
when = [{ attr = "age", eq = 30 }]
serve = "exact"
[[rules]]
when = [{ attr = "age", lte = 17 }]
serve = "young"
[[rules]]
when = [{ attr = "age", gt = 64.5 }]
serve = "old"
"#,
            ),
        ),
        (
            "semver-ops",
            flag(
                "parameter",
                r#"default = "other"
[variants]
other = "other"
exact = "exact"
not-exact = "not-exact"
older = "older"
older-eq = "older-eq"
newer = "newer"
newer-eq = "newer-eq"
tilde = "tilde"
caret = "caret"

[[rules]]
when = [{ attr = "app.version", semver_eq = "2.1.0" }]
serve = "exact"
[[rules]]
when = [{ attr = "app.version", semver_tilde = "1.4.0" }]
serve = "tilde"
[[rules]]
when = [{ attr = "app.version", semver_caret = "1.0.0" }]
serve = "caret"
[[rules]]
when = [{ attr = "app.version", semver_lt = "0.5.0" }]
serve = "older"
[[rules]]
when = [{ attr = "app.version", semver_lte = "0.9.0" }]
serve = "older-eq"
[[rules]]
when = [{ attr = "app.version", semver_gt = "3.0.0" }]
serve = "newer"
[[rules]]
when = [{ attr = "app.version", semver_gte = "2.5.0" }]
serve = "newer-eq"
[[rules]]
when = [{ attr = "app.version", semver_ne = "2.2.0" }]
serve = "not-exact"
"#,
            ),
        ),
    ]
}

/// The repository of [`flags`], committed.
fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("flagctl.toml", CONFIG);
    for (key, text) in flags() {
        repo.write(&format!("flags/ml/{key}.toml"), &text);
    }
    repo.commit_all_at("flags", "2026-11-01");
    repo
}

fn stdout_json(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn eval_json(repo: &TestRepo, args: &[&str]) -> Value {
    let mut all = vec!["eval", "--format", "json"];
    all.extend_from_slice(args);
    stdout_json(&repo.flagctl(&all).output().unwrap())
}

#[test]
fn eval_reports_flag_variant_value_reason_and_rule() {
    let repo = repo();
    repo.write(
        "ctx.json",
        r#"{"targetingKey": "u1", "email": "ann@example.com", "country": "SG"}"#,
    );
    let result = eval_json(&repo, &["ranker-v2", "--ctx-file", "ctx.json"]);
    assert_eq!(result["flag"], "ranker-v2");
    assert_eq!(result["variant"], "candidate");
    assert_eq!(
        result["value"],
        json!({"model": "ranker", "version": "2.0.0"})
    );
    assert_eq!(result["reason"], "TARGETING_MATCH");
    assert_eq!(result["rule"], "qa-accounts");
    assert_eq!(result["bucket"], Value::Null);
    assert_eq!(result["metadata"]["owner"], "team-ml");

    // --ctx overrides the file; the rollout reports its bucket.
    let result = eval_json(
        &repo,
        &[
            "ranker-v2",
            "--ctx-file",
            "ctx.json",
            "--ctx",
            "email=bo@shop.sg",
            "--ctx",
            "user_id=42",
        ],
    );
    assert_eq!(result["rule"], "sg-10pct");
    assert_eq!(result["bucket"]["total_weight"], 100);
    let bucket = result["bucket"]["value"].as_u64().unwrap();
    let expected = if bucket < 10 { "candidate" } else { "baseline" };
    assert_eq!(result["variant"], expected);
}

#[test]
fn disabled_flags_serve_their_default_and_fail_their_dependants() {
    let repo = repo();
    let killed = eval_json(&repo, &["killed", "--targeting-key", "u1"]);
    assert_eq!(
        (&killed["variant"], &killed["value"], &killed["reason"]),
        (&json!("off"), &json!(false), &json!("DISABLED"))
    );
    let dependant = eval_json(&repo, &["needs-killed", "--targeting-key", "u1"]);
    assert_eq!(
        (&dependant["variant"], &dependant["reason"]),
        (&json!("off"), &json!("PREREQUISITE_FAILED"))
    );
    let concluded = eval_json(&repo, &["concluded"]);
    assert_eq!(
        (&concluded["variant"], &concluded["reason"]),
        (&json!("b"), &json!("STATIC"))
    );
}

#[test]
fn explain_shows_every_step() {
    let repo = repo();
    let out = repo
        .flagctl(&[
            "--as-of",
            "2026-11-25",
            "eval",
            "ranker-v2",
            "--explain",
            "--ctx",
            "country=SG",
            "--ctx",
            "email=bo@shop.sg",
            "--ctx",
            "user_id=7",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "ranker-v2: ",
        "1. state: enabled",
        "2. prerequisite ranking-switch = `on`: got `on` (TARGETING_MATCH) → holds",
        "3. rule qa-accounts: email ends_with \"@example.com\" (got \"bo@shop.sg\") ✗ → no match",
        "4. rule sg-10pct: country in [\"SG\"] (got \"SG\") ✓ → matches",
        "5. rollout on user_id: bucket ",
        "(candidate < 10, baseline < 100)",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    let json = eval_json(&repo, &["layer-low", "--explain", "--targeting-key", "u1"]);
    assert_eq!(json["steps"][1]["step"], "layer");
    assert_eq!(json["steps"][1]["range"], json!([0, 40]));
}

#[test]
fn unknown_flags_resolve_as_flag_not_found_and_bad_contexts_exit_2() {
    let repo = repo();
    // As flagd answers it: a result with FLAG_NOT_FOUND, the hint on stderr, exit 1.
    let out = repo
        .flagctl(&[
            "--as-of",
            "2026-11-25",
            "eval",
            "ranker-v3",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["reason"], "ERROR");
    assert_eq!(result["error"]["code"], "FLAG_NOT_FOUND");
    assert_eq!(result["variant"], Value::Null);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean `ranker-v2`?"),
        "{out:?}"
    );
    repo.flagctl(&["--as-of", "2026-11-25", "eval", "ranker-v3"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FLAG_NOT_FOUND"))
        .stderr(predicate::str::contains("did you mean `ranker-v2`?"));
    // A typed request of another type, as an SDK's typed call.
    let mismatch = eval_json(&repo, &["ranker-v2", "--type", "boolean"]);
    assert_eq!(mismatch["error"]["code"], "TYPE_MISMATCH");
    assert_eq!(mismatch["value"], Value::Null);
    let object = eval_json(&repo, &["ranker-v2", "--type", "object"]);
    assert_eq!(object["error"], Value::Null);
    repo.flagctl(&["eval", "ranker-v2", "--type", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "use boolean, string, integer, float or object",
        ));
    repo.write("bad.jsonl", "{\"targetingKey\": \"a\"}\n\n[1, 2]\n");
    repo.flagctl(&[
        "--as-of",
        "2026-11-25",
        "eval",
        "--all",
        "--contexts",
        "bad.jsonl",
        "--format",
        "json",
    ])
    .assert()
    .code(2)
    .stdout(predicate::str::contains(
        "\"message\": \"bad.jsonl:3: the context must be a JSON object",
    ))
    .stderr(predicate::str::contains(
        "bad.jsonl:3: the context must be a JSON object",
    ));
    repo.flagctl(&[
        "--as-of",
        "2026-11-25",
        "eval",
        "ranker-v2",
        "--ctx",
        "age:=thirty",
    ])
    .assert()
    .code(2);
}

/// A small deterministic generator (xorshift64*), so the contexts are the same each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, values: &'a [Value]) -> &'a Value {
        &values[(self.next() % values.len() as u64) as usize]
    }
}

/// `count` contexts whose attributes come from the values the flags test, each missing
/// (absent or null) at random.
fn generated_contexts(count: usize) -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let attributes: Vec<(&str, Vec<Value>)> = vec![
        (
            "country",
            vec![
                json!("SG"),
                json!("MY"),
                json!("ID"),
                json!("DE"),
                json!("sg"),
            ],
        ),
        (
            "email",
            vec![
                json!("ann@example.com"),
                json!("admin@shop.sg"),
                json!("bob@shop.sg"),
                json!("dan@shop.org"),
                json!("carol@shop.sg"),
                json!(42),
            ],
        ),
        (
            "tier",
            vec![
                json!("gold"),
                json!("silver"),
                json!("free"),
                json!("trial"),
                json!(""),
            ],
        ),
        (
            "age",
            vec![
                json!(17),
                json!(18),
                json!(30),
                json!("30"),
                json!(64),
                json!(64.5),
                json!(65),
                json!(0),
                json!(true),
            ],
        ),
        (
            "version",
            vec![
                json!("2.1.0"),
                json!("v2.1.0"),
                json!("1.4.7"),
                json!("1.9.0"),
                json!("0.4.0"),
                json!("0.9.0"),
                json!("3.0.1"),
                json!("2.5.0"),
                json!("2.2.0"),
                json!("2.0.0-rc.1"),
                json!("garbage"),
                json!(2),
            ],
        ),
    ];
    let mut lines = String::new();
    for i in 0..count {
        let mut context = serde_json::Map::new();
        match rng.next() % 10 {
            0 => {}
            1 => {
                context.insert("targetingKey".into(), json!(""));
            }
            _ => {
                context.insert("targetingKey".into(), json!(format!("user-{i}")));
            }
        }
        if !rng.next().is_multiple_of(4) {
            context.insert("user_id".into(), json!(rng.next() % 100_000));
        }
        for (name, values) in &attributes {
            match rng.next() % 5 {
                0 => continue,
                1 => {
                    context.insert((*name).into(), Value::Null);
                }
                _ => {
                    let value = rng.pick(values).clone();
                    if *name == "version" {
                        context.insert("app".into(), json!({"version": value}));
                    } else {
                        context.insert((*name).into(), value);
                    }
                }
            }
        }
        lines.push_str(&Value::Object(context).to_string());
        lines.push('\n');
    }
    lines
}

/// (line, flag, variant, value) of each result of `eval --format json ARGS`.
fn evaluations(repo: &TestRepo, args: &[&str]) -> Vec<(u64, String, Value, Value)> {
    let mut all = vec!["eval", "--format", "json"];
    all.extend_from_slice(args);
    let output = repo.flagctl(&all).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let result: Value = serde_json::from_str(line).unwrap();
            (
                result["line"].as_u64().unwrap(),
                result["flag"].as_str().unwrap().to_owned(),
                result["variant"].clone(),
                result["value"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_export_serves_what_eval_does_for_20000_contexts() {
    let repo = repo();
    repo.write("contexts.jsonl", &generated_contexts(20_000));
    repo.flagctl(&["export", "--format", "flagd", "-o", "exported.json"])
        .assert()
        .success();
    let exported: Value = serde_json::from_str(&repo.read("exported.json")).unwrap();
    assert_eq!(
        exported["$schema"],
        "https://flagd.dev/schema/v0/flags.json"
    );
    let head = repo.git(&["rev-parse", "HEAD"]);
    assert_eq!(exported["metadata"]["version"], head.trim());
    assert_eq!(exported["flags"]["killed"]["state"], "ENABLED");
    assert_eq!(exported["flags"]["killed"]["defaultVariant"], "off");
    assert_eq!(exported["flags"]["concluded"]["defaultVariant"], "b");

    let from_toml = evaluations(&repo, &["--all", "--contexts", "contexts.jsonl"]);
    let from_flagd = evaluations(
        &repo,
        &[
            "--flagd",
            "exported.json",
            "--all",
            "--contexts",
            "contexts.jsonl",
        ],
    );
    assert_eq!(from_toml.len(), 20_000 * flags().len());
    assert_eq!(from_toml.len(), from_flagd.len());
    for (toml, flagd) in from_toml.iter().zip(&from_flagd) {
        assert_eq!(toml, flagd, "line {} flag {}", toml.0, toml.1);
    }
    // The contexts reach every flag's every outcome often enough to mean something.
    let served = |flag: &str, variant: Value| {
        from_toml
            .iter()
            .filter(|(_, f, v, _)| f == flag && *v == variant)
            .count()
    };
    assert!(served("ranker-v2", json!("candidate")) > 1000);
    assert!(served("needs-candidate", json!("on")) > 100);
    assert!(served("layer-low", json!("on")) > 100);
    assert!(served("layer-high", json!("on")) > 100);
    for variant in [
        "exact",
        "not-exact",
        "older",
        "older-eq",
        "newer",
        "newer-eq",
        "tilde",
        "caret",
    ] {
        assert!(
            served("semver-ops", json!(variant)) > 20,
            "semver-ops {variant}"
        );
    }
    for variant in ["eq", "ne", "in", "starts", "ends", "contains", "not-in"] {
        assert!(
            served("string-ops", json!(variant)) > 20,
            "string-ops {variant}"
        );
    }

    repo.flagctl(&["export", "--format", "flagd", "--verify", "2000"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "verified: 2000 contexts × 11 flags",
        ));
}

#[test]
fn export_versions_name_the_commit_and_flag_uncommitted_changes() {
    let repo = repo();
    let first = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.write("flags/ml/killed.toml", &flag("operational", ON_OFF));
    repo.commit_all_at("restore killed", "2026-11-02");
    let exported = |args: &[&str]| {
        let mut all = vec!["export", "--format", "flagd"];
        all.extend_from_slice(args);
        stdout_json(&repo.flagctl(&all).output().unwrap())
    };
    assert_eq!(exported(&["--rev", "HEAD~1"])["metadata"]["version"], first);
    repo.write("flags/ml/new.toml", &flag("experiment", ON_OFF));
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.flagctl(&["export", "--format", "flagd"])
        .assert()
        .success()
        .stderr(predicate::str::contains("uncommitted changes"));
    let dirty = exported(&[]);
    assert_eq!(dirty["metadata"]["version"], format!("{head}-dirty"));
    assert!(dirty["flags"]["new"].is_object());
    repo.flagctl(&["export", "--format", "json"])
        .assert()
        .code(2);
}

#[test]
fn eval_at_a_time_reads_the_commit_then_in_force() {
    let repo = repo();
    let before = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    let killed_on = flag(
        "operational",
        &format!("{ON_OFF}[[rules]]\nserve = \"on\"\n"),
    );
    repo.write("flags/ml/killed.toml", &killed_on);
    repo.commit_all_at("restore killed", "2026-11-10T09:00:00+00:00");
    let after = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();

    let at = |time: &str| eval_json(&repo, &["killed", "--at", time]);
    let old = at("2026-11-05");
    assert_eq!(
        (&old["variant"], &old["reason"]),
        (&json!("off"), &json!("DISABLED"))
    );
    assert_eq!(old["commit"], before);
    let just_before = at("2026-11-10T08:59:59Z");
    assert_eq!(just_before["commit"], before);
    let new = at("2026-11-10T17:00:00+08:00");
    assert_eq!(
        (&new["variant"], &new["reason"]),
        (&json!("on"), &json!("TARGETING_MATCH"))
    );
    assert_eq!(new["commit"], after);
    assert_eq!(at("2026-11-10")["commit"], after);

    let out = repo
        .flagctl(&[
            "--as-of",
            "2026-11-25",
            "eval",
            "killed",
            "--at",
            "2026-11-05",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "as of commit {} (2026-11-01 12:00:00 +00:00): flags\n",
            &before[..10]
        )),
        "{text}"
    );
    repo.flagctl(&[
        "--as-of",
        "2026-11-25",
        "eval",
        "killed",
        "--at",
        "2026-10-01",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("no commit at or before"));
}

#[test]
fn simulate_reports_shares_next_to_weights_with_a_chi_square_test() {
    let repo = repo();
    let args = [
        "simulate",
        "ranker-v2",
        "--sample",
        "50000",
        "--attr",
        "country=SG,MY",
        "--attr",
        "email=a@shop.sg,b@example.com",
        "--seed",
        "42",
        "--format",
        "json",
    ];
    let result = stdout_json(&repo.flagctl(&args).output().unwrap());
    assert_eq!(result["contexts"], 50_000);
    assert_eq!(result["seed"], 42);
    let share = |path: &Value| path.as_f64().unwrap();
    // Half are internal (qa-accounts), a quarter SG (the rollout), a quarter neither.
    let outcomes = result["outcomes"].as_array().unwrap();
    assert_eq!(outcomes[0]["rule"], "qa-accounts");
    assert!((0.48..0.52).contains(&share(&outcomes[0]["share"])));
    assert!((0.23..0.27).contains(&share(&outcomes[1]["share"])));
    let rollout = &result["rollouts"][0];
    assert_eq!(rollout["rule"], "sg-10pct");
    assert_eq!(rollout["bucket_by"], "user_id");
    assert_eq!(rollout["bucketed"], outcomes[1]["count"]);
    assert_eq!(rollout["entries"][0]["variant"], "candidate");
    assert_eq!(rollout["entries"][0]["expected_share"], 0.1);
    assert!((0.09..0.11).contains(&share(&rollout["entries"][0]["share"])));
    let test = &rollout["chi_square"];
    assert_eq!(test["degrees_of_freedom"], 1);
    assert!(share(&test["statistic"]) >= 0.0);
    assert!(share(&test["p_value"]) > 0.001, "{test}");

    // The same seed gives the same result.
    let again = stdout_json(&repo.flagctl(&args).output().unwrap());
    assert_eq!(result, again);

    let human = repo.flagctl(&args[..args.len() - 2]).output().unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.starts_with("ranker-v2: 50,000 contexts (generated, seed 42)\n"),
        "{text}"
    );
    assert!(text.contains("rollout sg-10pct on user_id: "), "{text}");
    assert!(text.contains("1 degree of freedom, p = "), "{text}");

    repo.write("contexts.jsonl", &generated_contexts(2_000));
    let from_file = stdout_json(
        &repo
            .flagctl(&[
                "simulate",
                "layer-low",
                "--contexts",
                "contexts.jsonl",
                "--format",
                "json",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(from_file["contexts"], 2_000);
    assert_eq!(from_file["seed"], Value::Null);
}

#[test]
fn the_first_bad_line_of_a_large_contexts_file_is_the_error_and_nothing_is_printed() {
    let repo = repo();
    let mut text = String::new();
    for line in 1..=60_000 {
        match line {
            30_001 => text.push_str("{\"targetingKey\": \"u\", \"skip\": 1e400}\n"),
            45_000 => text.push_str("[1, 2]\n"),
            59_999 => text.push_str("{\n"),
            _ => text.push_str(&format!(
                "{{\"targetingKey\": \"u{line}\", \"country\": \"SG\", \"unread\": {{\"a\": [1, \"x\"]}}}}\n"
            )),
        }
    }
    repo.write("bad.jsonl", &text);
    for _ in 0..3 {
        for args in [&["eval", "--all"][..], &["simulate", "layer-low"][..]] {
            let out = repo
                .flagctl(args)
                .args(["--contexts", "bad.jsonl", "--format", "json"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let stdout = String::from_utf8(out.stdout).unwrap();
            let error: Value = serde_json::from_str(&stdout).expect("one JSON document");
            assert_eq!(
                error["error"]["message"],
                "bad.jsonl:30001: not JSON (number out of range at line 1 column 35)",
                "{args:?}"
            );
        }
    }
}

#[test]
fn lines_of_contexts_go_over_the_command_line_context() {
    let repo = repo();
    repo.write(
        "lines.jsonl",
        "{\"targetingKey\": \"u1\"}\n{\"targetingKey\": \"u1\", \"country\": null}\n{\"targetingKey\": \"u1\", \"country\": \"MY\", \"other\": [1]}\n",
    );
    let lines = evaluations(
        &repo,
        &["--all", "--ctx", "country=SG", "--contexts", "lines.jsonl"],
    );
    for (number, ctx) in [
        (1, r#"{"targetingKey": "u1", "country": "SG"}"#),
        (2, r#"{"targetingKey": "u1", "country": null}"#),
        (
            3,
            r#"{"targetingKey": "u1", "country": "MY", "other": [1]}"#,
        ),
    ] {
        repo.write("ctx.json", ctx);
        let single = eval_json(&repo, &["--all", "--ctx-file", "ctx.json"]);
        let expected: Vec<(u64, String, Value, Value)> = single["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    number,
                    f["flag"].as_str().unwrap().to_owned(),
                    f["variant"].clone(),
                    f["value"].clone(),
                )
            })
            .collect();
        let got: Vec<_> = lines.iter().filter(|l| l.0 == number).cloned().collect();
        assert_eq!(got, expected, "line {number}");
    }
}
