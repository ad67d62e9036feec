//! The published JSON Schema of every JSON document flagctl prints, generated from the
//! output types, and the golden test that keeps `schema/flagctl-output.schema.json` in
//! step with them (`FLAGCTL_BLESS=1 cargo test` rewrites it).

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use flagctl::create::Created;
use flagctl::lifecycle::{ArchivedFlags, Done, DryRun};
use flagctl::output::{Envelope, FailureJson};
use flagctl::report::FindingsJson;
use flagctl::report::cleanup::CleanupReport;
use flagctl::report::references::{RefsDiffJson, RefsJson};

use super::cleanup::Cleaned;
use super::eval::{EvalAll, EvalLine, EvalOne};
use super::export::Exported;
use super::history::FlagHistory;
use super::init::Initialised;
use super::list::{Details, FlagList};
use super::remind::{Deliveries, Reminders};
use super::simulate::Simulated;

/// Where the schema is checked in, from the crate root.
const PATH: &str = "schema/flagctl-output.schema.json";

/// The schema of one command's document, in the envelope.
fn enveloped<T: serde::Serialize + JsonSchema + 'static>(generator: &mut SchemaGenerator) -> Value {
    Envelope::<'static, T>::json_schema(generator).to_value()
}

/// One document: a definition per command output under `$defs`, and the root accepting
/// any of them.
fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let outputs: Vec<(&str, &str, Value)> = vec![
        (
            "findings",
            "audit --format json and validate --format json",
            enveloped::<FindingsJson<'static>>(&mut generator),
        ),
        (
            "error",
            "any command with --format json that could not do its job (exit code 2)",
            enveloped::<FailureJson>(&mut generator),
        ),
        (
            "eval",
            "eval KEY --format json",
            enveloped::<EvalOne<'static>>(&mut generator),
        ),
        (
            "eval-all",
            "eval --all --format json",
            enveloped::<EvalAll<'static>>(&mut generator),
        ),
        (
            "eval-line",
            "each line of eval --contexts F.jsonl --format json (JSON Lines: no envelope)",
            EvalLine::json_schema(&mut generator).to_value(),
        ),
        (
            "simulate",
            "simulate KEY --format json",
            enveloped::<Simulated>(&mut generator),
        ),
        (
            "list",
            "list --format json",
            enveloped::<FlagList<'static>>(&mut generator),
        ),
        (
            "show",
            "show KEY --format json",
            enveloped::<Details<'static>>(&mut generator),
        ),
        (
            "remind",
            "remind --format json",
            enveloped::<Reminders>(&mut generator),
        ),
        (
            "remind-webhook",
            "remind --webhook URL --format json: the delivery of each digest",
            enveloped::<Deliveries>(&mut generator),
        ),
        (
            "history",
            "history KEY --format json",
            enveloped::<FlagHistory>(&mut generator),
        ),
        (
            "refs",
            "refs --format json",
            enveloped::<RefsJson<'static>>(&mut generator),
        ),
        (
            "refs-base",
            "refs --base REV --format json",
            enveloped::<RefsDiffJson<'static>>(&mut generator),
        ),
        (
            "export",
            "export --format json (-o FILE or --verify N): the report, not the flagd file",
            enveloped::<Exported>(&mut generator),
        ),
        (
            "init",
            "init --format json",
            enveloped::<Initialised>(&mut generator),
        ),
        (
            "create",
            "create --format json",
            enveloped::<Created>(&mut generator),
        ),
        (
            "lifecycle",
            "expire, extend, review, kill, restore and archive with --format json",
            enveloped::<Done>(&mut generator),
        ),
        (
            "lifecycle-many",
            "archive KEY… (several keys) and archive --ready with --format json",
            enveloped::<ArchivedFlags>(&mut generator),
        ),
        (
            "dry-run",
            "expire, extend, review, kill, restore and archive with --dry-run --format json",
            enveloped::<DryRun>(&mut generator),
        ),
        (
            "report",
            "report --format json",
            enveloped::<CleanupReport>(&mut generator),
        ),
        (
            "cleanup",
            "cleanup KEY… --format json (with or without --dry-run)",
            enveloped::<Cleaned>(&mut generator),
        ),
    ];
    let mut defs = Map::new();
    let mut any_of = Vec::new();
    for (name, printed_by, mut schema) in outputs {
        schema["title"] = json!(name);
        schema["description"] = json!(format!("What {printed_by} prints."));
        defs.insert(name.to_owned(), schema);
        any_of.push(json!({ "$ref": format!("#/$defs/{name}") }));
    }
    for (name, schema) in generator.take_definitions(true) {
        assert!(!defs.contains_key(&name), "two definitions named {name}");
        defs.insert(name, schema);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "flagctl output",
        "description": "Every JSON document flagctl prints: one definition per command output under $defs. Each carries `schema` (1) and `as_of` except the lines of `eval --contexts` (eval-line).",
        "anyOf": any_of,
        "$defs": defs,
    })
}

#[test]
fn the_published_schema_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(PATH);
    let text = serde_json::to_string_pretty(&document()).unwrap() + "\n";
    if std::env::var_os("FLAGCTL_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == text,
        "{PATH} is out of step with the output types; regenerate it with \
         `FLAGCTL_BLESS=1 cargo test --bin flagctl schema` and review the diff"
    );
}
