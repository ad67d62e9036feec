//! TOML flags into the engine's form: what `eval`, `simulate` and `export` run on.

use serde_json::{Map, Value};

use crate::eval::{Action, Flag, FlagSet, Layer, Native, Prerequisite, Rollout, Rule, Targeting};
use crate::model::flag::{Action as TomlAction, Flag as TomlFlag, Rule as TomlRule};
use crate::model::{Config, condition::Condition};
use crate::repo::Repo;

/// Every active flag of a repository that fits the schema, in file order, bucketed with
/// the `[export] fractional` version. Archived flags and files that do not parse are left
/// out, so a flag that requires one fails its prerequisite. When two files share a key (a
/// `duplicate-key` finding) the first is kept.
pub fn flag_set(repo: &Repo) -> FlagSet {
    let mut set = FlagSet::new();
    set.set_fractional(repo.config.export.fractional);
    for (file, flag) in repo.flags().filter(|(file, _)| !file.archived) {
        if set.get(&file.key).is_none() {
            set.insert(compile_flag(&file.key, &file.service, flag, &repo.config));
        }
    }
    set
}

/// One TOML flag in the engine's form: segments inlined before each rule's own
/// conditions, the conclusion's winner, prerequisites, the layer clamped to [0, 100], and
/// owner, kind, service, expires and review_by as metadata.
pub fn compile_flag(key: &str, service: &str, flag: &TomlFlag, config: &Config) -> Flag {
    let native = Native {
        winner: flag.conclusion.as_ref().map(|c| c.winner.clone()),
        prerequisites: flag
            .requires
            .iter()
            .map(|r| Prerequisite {
                flag: r.flag.get_ref().clone(),
                variant: r.variant.get_ref().clone(),
            })
            .collect(),
        layer: flag.layer.as_ref().map(|layer| Layer {
            name: layer.name.clone(),
            from: percent(layer.from),
            to: percent(layer.to),
        }),
        rules: flag
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| compile_rule(index, rule, config))
            .collect(),
    };
    let mut metadata = Map::new();
    metadata.insert("owner".into(), flag.owner.get_ref().as_str().into());
    metadata.insert("kind".into(), flag.kind.get_ref().as_str().into());
    metadata.insert("service".into(), service.into());
    for (name, date) in [("expires", &flag.expires), ("review_by", &flag.review_by)] {
        if let Some(date) = date {
            metadata.insert(name.into(), Value::String(date.get_ref().to_string()));
        }
    }
    Flag {
        key: key.to_owned(),
        state: flag.state,
        variants: flag.variants.clone(),
        default_variant: Some(flag.default.get_ref().clone()),
        metadata,
        targeting: Targeting::Native(native),
    }
}

/// A layer bound as a percent: ranges outside [0, 100] are the `layer-overlap` rule's
/// business; clamped, they admit the same buckets.
fn percent(bound: i64) -> u32 {
    bound.clamp(0, 100) as u32
}

fn compile_rule(index: usize, rule: &TomlRule, config: &Config) -> Rule {
    // A rule naming an unknown segment makes its file invalid, so it never gets here.
    let segment: &[Condition] = rule
        .segment
        .as_ref()
        .and_then(|name| config.segments.get(name))
        .map_or(&[], Vec::as_slice);
    Rule {
        // Unnamed rules are numbered from 1, as `flagctl show` numbers them.
        name: rule
            .name
            .clone()
            .unwrap_or_else(|| format!("#{}", index + 1)),
        conditions: segment.iter().chain(&rule.when).cloned().collect(),
        action: match &rule.action {
            TomlAction::Serve(variant) => Action::Serve(variant.clone()),
            TomlAction::Rollout(entries) => Action::Rollout(Rollout {
                bucket_by: rule.bucket_by.clone(),
                entries: entries.clone(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::eval::Op;
    use crate::eval::{Context, Reason};
    use crate::model::SourceFile;

    const CONFIG: &str = "[segments.sg-users]\nwhen = [{ attr = \"country\", in = [\"SG\"] }]\n";

    const RANKER: &str = r#"description = "ranker v2"
kind = "experiment"
owner = "team-ranking"
created = 2026-11-01
expires = 2026-12-01
requires = [{ flag = "switch", variant = "on" }]
layer = { name = "ranking", range = [-10, 50] }
default = "baseline"

[variants]
baseline = "v1"
candidate = "v2"

[[rules]]
name = "qa"
when = [{ attr = "email", ends_with = "@example.com" }]
serve = "candidate"

[[rules]]
segment = "sg-users"
when = [{ attr = "plan", eq = "pro" }]
rollout = [{ variant = "candidate", weight = 10 }, { variant = "baseline", weight = 90 }]
bucket_by = "user_id"
"#;

    fn config() -> Config {
        Config::parse(&SourceFile::new("flagctl.toml", CONFIG)).unwrap()
    }

    fn parse(text: &str) -> TomlFlag {
        let config = config();
        TomlFlag::parse(&SourceFile::new("flags/ranking/f.toml", text), &config).unwrap()
    }

    #[test]
    fn segments_come_before_the_rules_own_conditions() {
        let flag = compile_flag("ranker-v2", "ranking", &parse(RANKER), &config());
        let Targeting::Native(native) = &flag.targeting else {
            panic!("{:?}", flag.targeting)
        };
        assert_eq!(native.rules[0].name, "qa");
        assert_eq!(native.rules[1].name, "#2");
        let attrs: Vec<(&str, Op)> = native.rules[1]
            .conditions
            .iter()
            .map(|c| (c.attr.as_str(), c.op))
            .collect();
        assert_eq!(attrs, [("country", Op::In), ("plan", Op::Eq)]);
        assert_eq!(
            native.rules[1].action,
            Action::Rollout(Rollout {
                bucket_by: Some("user_id".into()),
                entries: vec![("candidate".into(), 10), ("baseline".into(), 90)],
            })
        );
        assert_eq!(
            native.prerequisites,
            [Prerequisite {
                flag: "switch".into(),
                variant: "on".into()
            }]
        );
        assert_eq!(
            native.layer,
            Some(Layer {
                name: "ranking".into(),
                from: 0,
                to: 50
            })
        );
        assert_eq!(native.winner, None);
        assert_eq!(flag.default_variant.as_deref(), Some("baseline"));
    }

    #[test]
    fn metadata_names_owner_kind_service_and_dates() {
        let flag = compile_flag("ranker-v2", "ranking", &parse(RANKER), &config());
        assert_eq!(
            Value::Object(flag.metadata),
            json!({"owner": "team-ranking", "kind": "experiment", "service": "ranking", "expires": "2026-12-01"})
        );
    }

    #[test]
    fn conclusion_and_state_carry_over() {
        let concluded = format!(
            "{}\n[conclusion]\ndate = 2026-11-20\nwinner = \"candidate\"\nremove_by = 2026-12-20\n",
            RANKER.replace(
                "kind = \"experiment\"",
                "kind = \"experiment\"\nstate = \"disabled\""
            )
        );
        let flag = compile_flag("f", "ranking", &parse(&concluded), &config());
        assert_eq!(flag.state, crate::model::flag::State::Disabled);
        let Targeting::Native(native) = &flag.targeting else {
            panic!()
        };
        assert_eq!(native.winner.as_deref(), Some("candidate"));
    }

    #[test]
    fn compiled_flags_evaluate_in_the_documented_order() {
        let mut set = FlagSet::new();
        set.insert(compile_flag("f", "ranking", &parse(RANKER), &config()));
        let context = |value: Value| -> Context { value.as_object().cloned().unwrap() };
        // The prerequisite flag is not in the set, so it fails.
        let r = set.evaluate("f", &context(json!({"email": "a@example.com"})));
        assert_eq!(
            (r.variant, r.reason),
            (Some("baseline"), Reason::PrerequisiteFailed)
        );
    }
}
