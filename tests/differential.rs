//! The export against flagd's own engines. The repository in `tests/engines/fixture`
//! (every operator, segments, layers, prerequisites, a killed and a concluded flag) is
//! exported, and the file is evaluated over generated contexts full of edge values by
//! flagctl and by flagd's in-process engines for JS (`@openfeature/flagd-core`, which
//! buckets with fractional v2) and Python (`openfeature-flagd-core`, v3), pinned in
//! `tests/engines/`. Variant, value, reason and error code must agree, but where a
//! difference is a known bug of one engine, listed in the README ("Engine differences")
//! and recognised here by what causes it. The TOML flags must also serve what their
//! export serves.
//!
//! The engines are installed by `.ci/run`; without them the test fails, saying how to
//! install them.

// It reports what it measured (the README's numbers) and how long it took.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use flagctl::eval::{
    Action, Context, FlagSet, Fractional, Op, Resolution, TARGETING_KEY, Targeting,
};
use flagctl::repo::{Repo, Source};
use rayon::prelude::*;
use serde_json::{Value, json};

/// How many contexts each engine evaluates every flag for.
const CONTEXTS: usize = 20_000;

/// The seed of the contexts: fixed, so that a difference can be reproduced.
const SEED: u64 = 0x00f1_a9d1;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where `.ci/run` installs the engines.
struct Engines {
    dir: PathBuf,
    python: PathBuf,
}

impl Engines {
    fn find() -> Result<Engines, String> {
        let dir = manifest_dir().join("tests/engines");
        let python = dir.join(".venv/bin/python");
        let js = dir.join("node_modules/@openfeature/flagd-core");
        let node = Command::new("node").arg("--version").output();
        let mut missing = Vec::new();
        if !node.is_ok_and(|out| out.status.success()) {
            missing.push("node (Node.js 20) is not on PATH");
        }
        if !js.is_dir() {
            missing.push("@openfeature/flagd-core is not installed in tests/engines/node_modules");
        }
        if !python.is_file() {
            missing.push("openfeature-flagd-core is not installed in tests/engines/.venv");
        }
        if missing.is_empty() {
            return Ok(Engines { dir, python });
        }
        Err(format!(
            "flagd's engines are missing ({}); install them as .ci/run does:\n  npm ci --prefix tests/engines\n  python3 -m venv tests/engines/.venv && tests/engines/.venv/bin/pip install --require-hashes -r tests/engines/requirements.txt",
            missing.join("; ")
        ))
    }

    fn spawn(&self, engine: Engine, flags: &Path, contexts: &Path, out: &Path) -> Child {
        let output = std::fs::File::create(out).unwrap();
        let mut command = match engine {
            Engine::Js => {
                let mut command = Command::new("node");
                command.arg(self.dir.join("run.js"));
                command
            }
            Engine::Python => {
                let mut command = Command::new(&self.python);
                command.arg(self.dir.join("run.py"));
                command
            }
        };
        command
            .args([flags, contexts])
            .stdout(output)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {engine:?} engine: {e}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Engine {
    Js,
    Python,
}

impl Engine {
    /// The bucketing the engine's release implements.
    fn fractional(self) -> Fractional {
        match self {
            Engine::Js => Fractional::V2,
            Engine::Python => Fractional::V3,
        }
    }
}

/// One evaluation: variant, value, reason and error code.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    variant: Option<String>,
    value: Option<Value>,
    reason: String,
    code: Option<String>,
}

impl Outcome {
    fn of(resolution: &Resolution<'_>) -> Outcome {
        Outcome {
            variant: resolution.variant.map(str::to_owned),
            value: resolution.value.cloned(),
            reason: resolution.reason.to_string(),
            code: resolution.error.as_ref().map(|e| e.code.to_string()),
        }
    }

    /// One `[variant, value, reason, code]` of an engine's line.
    fn from_engine(cell: &Value) -> Outcome {
        let text = |i: usize| cell[i].as_str().map(str::to_owned);
        Outcome {
            variant: text(0),
            value: Some(cell[1].clone()).filter(|v| !v.is_null() || !cell[0].is_null()),
            reason: text(2).unwrap_or_default(),
            code: text(3),
        }
    }

    /// Equal, reading numbers as numbers (Python's float resolver turns 1 into 1.0).
    fn agrees(&self, other: &Outcome) -> bool {
        let same_value = match (&self.value, &other.value) {
            (Some(Value::Number(a)), Some(Value::Number(b))) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        self.variant == other.variant
            && same_value
            && self.reason == other.reason
            && self.code == other.code
    }
}

/// What a flag's evaluation reads, itself and through the flags it requires.
#[derive(Debug, Default)]
struct Reads {
    /// Attributes compared with `lt`, `lte`, `gt`, `gte`.
    ordered: Vec<String>,
    /// Attributes compared with the `semver_*` operators.
    versions: Vec<String>,
    /// Attributes hashed by rollouts and layers (the targeting key among them).
    bucketed: Vec<String>,
}

fn reads(set: &FlagSet, key: &str, reads: &mut Reads, depth: usize) {
    let Some(flag) = set.get(key) else { return };
    let Targeting::Native(native) = &flag.targeting else {
        return;
    };
    if native.layer.is_some() {
        reads.bucketed.push(TARGETING_KEY.to_owned());
    }
    for rule in &native.rules {
        for condition in &rule.conditions {
            let list = match condition.op {
                Op::Lt | Op::Lte | Op::Gt | Op::Gte => &mut reads.ordered,
                op if op.name().starts_with("semver") => &mut reads.versions,
                _ => continue,
            };
            list.push(condition.attr.clone());
        }
        if let Action::Rollout(rollout) = &rule.action {
            let unit = rollout.bucket_by.as_deref().unwrap_or(TARGETING_KEY);
            reads.bucketed.push(unit.to_owned());
        }
    }
    if depth < 16 {
        for prerequisite in &native.prerequisites {
            self::reads(set, &prerequisite.flag, reads, depth + 1);
        }
    }
}

fn lookup<'c>(context: &'c Context, path: &str) -> Option<&'c Value> {
    let mut parts = path.split('.');
    let first = context.get(parts.next()?)?;
    parts.try_fold(first, |value, part| value.get(part))
}

/// A difference that is a known bug of one engine, with what causes it.
struct Explanation {
    engine: Engine,
    name: &'static str,
    holds: fn(&Reads, &Context, &Outcome) -> bool,
}

const EXPLANATIONS: [Explanation; 5] = [
    Explanation {
        engine: Engine::Js,
        name: "JS (imurmurhash) hashes the UTF-16 code units of a string, not its UTF-8: text beyond ASCII buckets differently",
        holds: |reads, context, _| {
            reads.bucketed.iter().any(|attr| {
                lookup(context, attr)
                    .and_then(Value::as_str)
                    .is_some_and(|text| !text.is_ascii())
            })
        },
    },
    Explanation {
        engine: Engine::Js,
        name: "JS (json-logic-engine) fails the evaluation (GENERAL) when `<` meets an array or object",
        holds: |reads, context, engine| {
            engine.code.as_deref() == Some("GENERAL")
                && reads.ordered.iter().any(|attr| {
                    lookup(context, attr).is_some_and(|v| v.is_array() || v.is_object())
                })
        },
    },
    Explanation {
        engine: Engine::Js,
        name: "JS (node-semver) trims white space around a version",
        holds: |reads, context, _| {
            reads.versions.iter().any(|attr| {
                lookup(context, attr)
                    .and_then(Value::as_str)
                    .is_some_and(|text| text.trim() != text)
            })
        },
    },
    Explanation {
        engine: Engine::Python,
        name: "Python (panzi-json-logic) compares an array with `<` as a number: [x] as x, [] as 0",
        holds: |reads, context, _| {
            reads
                .ordered
                .iter()
                .any(|attr| lookup(context, attr).is_some_and(Value::is_array))
        },
    },
    Explanation {
        engine: Engine::Python,
        name: "Python pads a partial version with a pre-release or build (1.2-rc.1 reads as 1.2.0-rc.1)",
        holds: |reads, context, _| {
            reads.versions.iter().any(|attr| {
                lookup(context, attr)
                    .and_then(Value::as_str)
                    .is_some_and(partial_with_suffix)
            })
        },
    },
];

/// `1.2-rc.1`, `v2+build`: one or two numbers, then a pre-release or build.
fn partial_with_suffix(text: &str) -> bool {
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let Some(end) = text.find(['-', '+']) else {
        return false;
    };
    let numbers: Vec<&str> = text[..end].split('.').collect();
    numbers.len() < 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Contexts that probe every condition of the fixture, mixed with the edge values: missing,
/// null, 0, 0.0, "", false, negative and huge numbers, text beyond ASCII, numeric and odd
/// targeting keys, nested objects and arrays.
fn contexts(count: usize) -> Vec<Context> {
    let edges = || {
        vec![
            Value::Null,
            json!(0),
            json!(0.0),
            json!(""),
            json!(false),
            json!(true),
            json!(-1),
            json!(-2.5),
            json!(-1e9),
            json!(1e300),
            json!(9_007_199_254_740_993_u64),
            json!(12_345_678_901_234_567_890_u64),
            json!("ñandú"),
            json!("日本語"),
            json!("😀"),
            json!("e\u{301}"),
            json!({"a": {"b": 1}}),
            json!({}),
            json!([]),
            json!(["admin"]),
            json!([0.1]),
            json!("30"),
            json!(" 30"),
            json!("0x1E"),
        ]
    };
    let attributes: Vec<(&str, Vec<Value>)> = vec![
        (
            "country",
            vec![
                json!("SG"),
                json!("MY"),
                json!("ID"),
                json!("DE"),
                json!("30"),
                json!("sg"),
            ],
        ),
        (
            "email",
            vec![
                json!("ann@example.com"),
                json!("bo@x.org"),
                json!("ann@x.org"),
                json!("jo@example.com.au"),
                json!("Ann@Example.com"),
            ],
        ),
        (
            "platform",
            vec![json!("ios"), json!("android"), json!("web")],
        ),
        (
            "age",
            vec![
                json!(17),
                json!(18),
                json!(30),
                json!(65),
                json!(66),
                json!(18.0),
                json!(17.5),
            ],
        ),
        (
            "score",
            vec![
                json!(0.1),
                json!(0.2),
                json!(0.199_99),
                json!(0.5),
                json!(0.4),
                json!(0.6),
                json!(0.8),
                json!(0.95),
                json!(1),
            ],
        ),
        (
            "n",
            vec![
                json!(0),
                json!(1),
                json!(30),
                json!(30.0),
                json!(1.0),
                json!(2),
                json!(-0.0),
            ],
        ),
        ("beta", vec![json!(true), json!(false), json!(1), json!(0)]),
        (
            "tier",
            vec![json!("gold"), json!("platinum"), json!("silver")],
        ),
        (
            "roles",
            vec![
                json!(["admin", "qa"]),
                json!(["qa"]),
                json!("superadmin"),
                json!(["Admin"]),
            ],
        ),
    ];
    let versions = [
        "2.1.0",
        "2.1.1",
        "3.0.0",
        "1.4.2",
        "1.4.0",
        "1.5.0",
        "1.0.0",
        "1.9.9",
        "2.0.0",
        "1.2.0",
        "v2.1.0",
        "2.1.0-rc.1",
        "2.1",
        "2",
        "1.2-rc.1",
        "not-a-version",
        "1.2.3.4",
        " 2.1.0",
        "2.1.0+build",
    ]
    .map(|v| json!(v));
    let mut rng = fastrand::Rng::with_seed(SEED);
    let pick = |pool: &[Value], rng: &mut fastrand::Rng| {
        if rng.f64() < 0.15 {
            let edges = edges();
            edges[rng.usize(..edges.len())].clone()
        } else {
            pool[rng.usize(..pool.len())].clone()
        }
    };
    (0..count)
        .map(|_| {
            let mut context = Context::new();
            for (name, pool) in &attributes {
                if rng.f64() >= 0.2 {
                    context.insert((*name).to_owned(), pick(pool, &mut rng));
                }
            }
            if rng.f64() < 0.85 {
                let version = pick(&versions, &mut rng);
                let app = if rng.f64() < 0.9 {
                    json!({"version": version})
                } else {
                    version
                };
                context.insert("app".into(), app);
            }
            if rng.f64() < 0.9 {
                let id = pick(&[json!(format!("u{}", rng.u32(..1_000_000)))], &mut rng);
                let user = if rng.f64() < 0.9 {
                    json!({"id": id})
                } else {
                    id
                };
                context.insert("user".into(), user);
            }
            let key = rng.f64();
            if key < 0.8 {
                context.insert(TARGETING_KEY.into(), json!(format!("user-{}", rng.u32(..))));
            } else if key < 0.9 {
                let edges = edges();
                context.insert(
                    TARGETING_KEY.into(),
                    edges[rng.usize(..edges.len())].clone(),
                );
            }
            context
        })
        .collect()
}

/// An engine's lines: one per context, a cell per flag in file order.
fn engine_outcomes(path: &Path, flags: usize) -> Vec<Vec<Outcome>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            let cells: Vec<Value> = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: not an engine line ({e}): {line}", path.display()));
            assert_eq!(cells.len(), flags, "{}: {line}", path.display());
            cells.iter().map(Outcome::from_engine).collect()
        })
        .collect()
}

#[test]
fn exports_mean_the_same_in_flagd_engines() {
    let started = Instant::now();
    let engines = Engines::find().unwrap_or_else(|why| panic!("{why}"));
    let repo = Repo::open(
        &manifest_dir().join("tests/engines/fixture"),
        &Source::WorkTree,
    )
    .expect("the fixture repository loads");
    let toml = flagctl::compile::flag_set(&repo);
    let document = flagctl::export::to_flagd(&toml, "differential").expect("the fixture exports");
    assert!(
        flagctl::export::unportable(&document).is_empty(),
        "the export holds unportable constructs"
    );
    let dir = tempfile::tempdir().unwrap();
    let flags_path = dir.path().join("flags.flagd.json");
    let text = serde_json::to_string_pretty(&document).unwrap();
    std::fs::write(&flags_path, &text).unwrap();
    let contexts = contexts(CONTEXTS);
    let contexts_path = dir.path().join("contexts.jsonl");
    let lines: Vec<String> = contexts
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    std::fs::write(&contexts_path, lines.join("\n") + "\n").unwrap();

    // The engines run while flagctl evaluates.
    let running: Vec<(Engine, PathBuf, Child)> = [Engine::Js, Engine::Python]
        .into_iter()
        .map(|engine| {
            let out = dir.path().join(format!("{engine:?}.jsonl"));
            let child = engines.spawn(engine, &flags_path, &contexts_path, &out);
            (engine, out, child)
        })
        .collect();

    let keys: Vec<String> = document["flags"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let flag_reads: Vec<Reads> = keys
        .iter()
        .map(|key| {
            let mut found = Reads::default();
            reads(&toml, key, &mut found, 0);
            found
        })
        .collect();
    let exported = |fractional| {
        let mut set = FlagSet::from_flagd_json(&text).expect("the export loads in flagctl");
        set.set_fractional(fractional);
        set
    };
    let ours: BTreeMap<Engine, Vec<Vec<Outcome>>> = [Engine::Js, Engine::Python]
        .into_iter()
        .map(|engine| {
            let set = exported(engine.fractional());
            let outcomes = contexts
                .par_iter()
                .map(|context| {
                    keys.iter()
                        .map(|key| Outcome::of(&set.evaluate(key, context)))
                        .collect()
                })
                .collect();
            (engine, outcomes)
        })
        .collect();

    // The TOML flags serve what their export serves, in either version.
    for fractional in Fractional::ALL {
        let mut native = flagctl::compile::flag_set(&repo);
        native.set_fractional(fractional);
        let export = &ours[&if fractional == Fractional::V2 {
            Engine::Js
        } else {
            Engine::Python
        }];
        let differing: Vec<String> = contexts
            .par_iter()
            .enumerate()
            .flat_map_iter(|(line, context)| {
                let native = &native;
                keys.iter().enumerate().filter_map(move |(column, key)| {
                    let ours = Outcome::of(&native.evaluate(key, context));
                    let theirs = &export[line][column];
                    (ours.variant != theirs.variant || ours.value != theirs.value).then(|| {
                        format!(
                            "{key} on line {}: {ours:?} / {theirs:?} {context:?}",
                            line + 1
                        )
                    })
                })
            })
            .take_any(5)
            .collect();
        assert!(
            differing.is_empty(),
            "the TOML flags and their export differ ({}): {differing:#?}",
            fractional.name()
        );
    }

    let mut report = String::new();
    let mut unexplained = Vec::new();
    for (engine, out, child) in running {
        let finished = child.wait_with_output().unwrap();
        assert!(
            finished.status.success(),
            "the {engine:?} engine failed: {}",
            String::from_utf8_lossy(&finished.stderr)
        );
        let theirs = engine_outcomes(&out, keys.len());
        assert_eq!(theirs.len(), CONTEXTS, "{engine:?} answered every context");
        let mut explained: BTreeMap<&str, usize> = BTreeMap::new();
        let mut differing = 0;
        for (line, (context, cells)) in contexts.iter().zip(&theirs).enumerate() {
            for (column, theirs) in cells.iter().enumerate() {
                let ours = &ours[&engine][line][column];
                if ours.agrees(theirs) {
                    continue;
                }
                differing += 1;
                let reads = &flag_reads[column];
                match EXPLANATIONS
                    .iter()
                    .find(|e| e.engine == engine && (e.holds)(reads, context, theirs))
                {
                    Some(explanation) => *explained.entry(explanation.name).or_default() += 1,
                    None if unexplained.len() < 20 => unexplained.push(format!(
                        "{engine:?}, flag {} on line {}: flagctl {ours:?}, engine {theirs:?}\n    context {}",
                        keys[column],
                        line + 1,
                        lines[line]
                    )),
                    None => {}
                }
            }
        }
        let _ = writeln!(
            report,
            "{engine:?} ({}): {} contexts x {} flags, {differing} differing",
            engine.fractional().name(),
            CONTEXTS,
            keys.len()
        );
        for (name, count) in explained {
            let _ = writeln!(report, "  {count:>6}  {name}");
        }
    }
    let _ = writeln!(report, "in {:.1} s", started.elapsed().as_secs_f64());
    eprintln!("{report}");
    assert!(
        unexplained.is_empty(),
        "differences that no known engine bug explains:\n{}\n{report}",
        unexplained.join("\n")
    );
}

/// Typed bucketing values, hashed by the Python engine (fractional v3) and by flagctl.
#[test]
fn fractional_v3_buckets_typed_values_as_the_python_engine() {
    let engines = Engines::find().unwrap_or_else(|why| panic!("{why}"));
    let buckets: Vec<Value> = (1..=25).map(|i| json!([format!("b{i}"), 1])).collect();
    let mut targeting = vec![json!({"var": "hashing_input"})];
    targeting.extend(buckets);
    let variants: serde_json::Map<String, Value> = (1..=25)
        .map(|i| (format!("b{i}"), json!(format!("b{i}"))))
        .collect();
    let document = json!({"flags": {"typed": {
        "state": "ENABLED", "variants": variants, "defaultVariant": "b1",
        "targeting": {"fractional": targeting},
    }}});
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut inputs: Vec<Value> = vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-0.0),
        json!(0.0),
        json!(1.0),
        json!(2f64.powi(-24)),
        json!(f64::from_bits(1)),
        json!(65504.0),
        json!(65505.0),
        json!(3.5e38),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("日本語"),
        json!({"b": [1, null, {"c": -0.0}], "a": "x", "": true}),
    ];
    for _ in 0..3000 {
        inputs.push(match rng.u8(..6) {
            0 => json!(rng.bool()),
            1 => json!(rng.i64(..) >> rng.u32(0..63)),
            2 => json!(f64::from_bits(
                rng.u64(..) & !(0x7ff << 52) | (u64::from(rng.u32(900..1150)) << 52)
            )),
            3 => json!(rng.f64() * 1000.0 - 500.0),
            4 => json!(
                (0..rng.usize(0..30))
                    .map(|_| rng.alphanumeric())
                    .collect::<String>()
            ),
            _ => json!({"id": rng.u32(..), "tags": [rng.bool(), format!("t{}", rng.u8(..))]}),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let flags_path = dir.path().join("typed.flagd.json");
    std::fs::write(&flags_path, document.to_string()).unwrap();
    let contexts: Vec<Context> = inputs
        .iter()
        .map(|input| {
            let mut context = Context::new();
            context.insert("hashing_input".into(), input.clone());
            context
        })
        .collect();
    let contexts_path = dir.path().join("typed.jsonl");
    let lines: Vec<String> = contexts
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    std::fs::write(&contexts_path, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("python.jsonl");
    let finished = engines
        .spawn(Engine::Python, &flags_path, &contexts_path, &out)
        .wait_with_output()
        .unwrap();
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let mut set = FlagSet::from_flagd_json(&document.to_string()).unwrap();
    set.set_fractional(Fractional::V3);
    let theirs = engine_outcomes(&out, 1);
    assert_eq!(theirs.len(), inputs.len());
    for ((input, context), theirs) in inputs.iter().zip(&contexts).zip(&theirs) {
        let ours = Outcome::of(&set.evaluate("typed", context));
        assert!(
            ours.agrees(&theirs[0]),
            "hashing {input}: flagctl {ours:?}, Python {:?}",
            theirs[0]
        );
    }
}
