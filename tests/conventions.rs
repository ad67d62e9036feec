//! What users expect of a CLI around its files: JSON Schemas of the flag file and of
//! `flagctl.toml` for their editors, checked in and kept current, that the example
//! repository and every built-in template fit; shell completions and a man page.

mod common;

use std::path::Path;

use chrono::NaiveDate;
use common::{experiment, flagctl};
use serde_json::Value;

use flagctl::create::{NewFlag, render};
use flagctl::model::{Config, SourceFile, json_schema};
use flagctl::templates::{BUILT_IN, Template};

const FLAG_SCHEMA: &str = "schema/flag.schema.json";
const CONFIG_SCHEMA: &str = "schema/flagctl-toml.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn validator(rel: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&serde_json::from_str(&read(rel)).unwrap()).unwrap()
}

/// The schema's complaints about a TOML text, each with where it points.
fn problems(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let instance = json_schema::instance(text).unwrap();
    validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_checked_in_schemas_are_current() {
    for (rel, schema) in [
        (FLAG_SCHEMA, json_schema::flag()),
        (CONFIG_SCHEMA, json_schema::config()),
    ] {
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = root().join(rel);
        if std::env::var_os("FLAGCTL_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == text,
            "{rel} is out of step with the model; regenerate it with \
             `FLAGCTL_BLESS=1 cargo test --test conventions` and review the diff"
        );
    }
}

#[test]
fn flagctl_schema_prints_the_checked_in_schemas() {
    for (file, rel) in [("flag", FLAG_SCHEMA), ("config", CONFIG_SCHEMA)] {
        let out = flagctl(&["schema", file]).assert().success();
        assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), read(rel));
    }
    flagctl(&["schema", "flag", "--format", "sarif"])
        .assert()
        .code(2);
}

#[test]
fn the_example_repository_fits_the_schemas() {
    let files: Vec<String> = walkdir::WalkDir::new(root().join("flags"))
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            let rel = path.strip_prefix(root()).unwrap();
            rel.to_string_lossy().replace('\\', "/")
        })
        .collect();
    assert!(files.iter().any(|f| f.starts_with("flags/_archive/")));
    assert!(files.len() >= 10, "{files:?}");
    let flag = validator(FLAG_SCHEMA);
    for file in files {
        assert_eq!(
            problems(&flag, &read(&file)),
            Vec::<String>::new(),
            "{file}"
        );
    }
    let config = validator(CONFIG_SCHEMA);
    assert_eq!(
        problems(&config, &read("flagctl.toml")),
        Vec::<String>::new()
    );
}

#[test]
fn every_built_in_template_renders_a_flag_that_fits_the_schema() {
    // Raw templates leave `description` (and `owner`) empty for `create` to fill in: what
    // lands in flags/ is the rendered file.
    let config = Config::parse(&SourceFile::new("flagctl.toml", read("flagctl.toml"))).unwrap();
    let flag = validator(FLAG_SCHEMA);
    for (name, text) in BUILT_IN {
        let raw: toml::Table = text.parse().unwrap();
        let template = Template {
            name: name.to_string(),
            text: text.to_string(),
            origin: "built-in".into(),
        };
        let new = NewFlag {
            key: format!("new-{name}"),
            service: "ranking".into(),
            kind: raw["kind"].as_str().unwrap().to_string(),
            owner: "team-ranking".into(),
            description: format!("A flag from the {name} template"),
            created: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
        };
        let rendered = render(&template, &new, &config).unwrap();
        assert_eq!(problems(&flag, &rendered), Vec::<String>::new(), "{name}");
        assert_eq!(
            problems(&flag, text),
            [r#"/description: "" does not match "\S""#],
            "{name}: raw, only the empty description is wrong"
        );
    }
}

#[test]
fn unknown_keys_and_wrong_types_fail_the_schemas() {
    let flag = validator(FLAG_SCHEMA);
    let good = experiment("team-ranking", "2026-11-01", "2026-11-20");
    assert_eq!(problems(&flag, &good), Vec::<String>::new());

    let typo = good.replace("owner =", "ownr =");
    let found = problems(&flag, &typo).join("\n");
    assert!(found.contains("ownr"), "{found}");
    let found = problems(&flag, &good.replace("expires = 2026-11-20", "expires = 20")).join("\n");
    assert!(found.contains("/expires"), "{found}");
    let found = problems(&flag, &format!("{good}\n[[rules]]\nserve = true\n")).join("\n");
    assert!(found.contains("/rules/0/serve"), "{found}");
    let found = problems(&flag, &good.replace("on = true", "on = \"yes\"")).join("\n");
    assert!(found.contains("/variants"), "{found}");

    let config = validator(CONFIG_SCHEMA);
    let found = problems(&config, "[polcy]\nwarn_days = 3\n").join("\n");
    assert!(found.contains("polcy"), "{found}");
    let found = problems(&config, "[policy]\nwarn_days = \"a week\"\n").join("\n");
    assert!(found.contains("/policy/warn_days"), "{found}");
    let found = problems(&config, "[severity]\nexpired = \"fatal\"\n").join("\n");
    assert!(found.contains("/severity/expired"), "{found}");
}

#[test]
fn completions_come_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_flagctl()"),
        ("zsh", "#compdef flagctl"),
        ("fish", "complete -c flagctl"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[flagctl]"),
    ] {
        let out = flagctl(&["completions", shell]).assert().success();
        let script = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("simulate"), "{shell}: no subcommand");
    }
    flagctl(&["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_prints_roff_pages() {
    let out = flagctl(&["man"]).assert().success();
    let page = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(page.contains(".TH flagctl 1"), "{page}");
    assert!(page.contains("completions"), "{page}");
    let out = flagctl(&["man", "eval"]).assert().success();
    let page = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(page.contains(".TH flagctl-eval 1"), "{page}");
    let out = flagctl(&["man", "nope"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("no command `nope`"), "{stderr}");
}

/// The editor set-up the README describes maps the files to the checked-in schemas.
#[test]
fn the_taplo_config_maps_the_files_to_the_schemas() {
    let taplo: toml::Table = read(".taplo.toml").parse().unwrap();
    let rules: Vec<(Vec<&str>, &str)> = taplo["rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| {
            let include = rule["include"].as_array().unwrap();
            let include = include.iter().map(|i| i.as_str().unwrap()).collect();
            (include, rule["schema"]["path"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        rules,
        [
            (vec!["flags/**/*.toml"], "./schema/flag.schema.json"),
            (vec!["flagctl.toml"], "./schema/flagctl-toml.schema.json"),
        ]
    );
    let keys: Vec<&String> = taplo.keys().collect();
    assert_eq!(keys, ["rule"], "schema association only");
    for (_, path) in rules {
        let schema: Value = serde_json::from_str(&read(path)).unwrap();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    }
}
