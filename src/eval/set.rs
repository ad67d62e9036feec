//! A set of flags and their evaluation.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::bounds::{self, OutOfBounds};
use super::bucket::{self, Fractional};
use super::context::{self, Context};
use super::flag::{Action, Flag, Native, Rollout, Rule, State, Targeting};
use super::graph::Analysis;
use super::js;
use super::logic::Logic;
use super::native;
use super::trace::{ConditionCheck, CumulativeWeight, NoTrace, Step, Trace};
use super::typed::FlagType;

/// Flags by key plus the flag set's metadata: what one flagd file or one repository holds.
#[derive(Debug, Clone, Default)]
pub struct FlagSet {
    flags: IndexMap<String, Flag, foldhash::fast::RandomState>,
    metadata: Map<String, Value>,
    timestamp: i64,
    /// The bucketing of `fractional`, rollouts and layers.
    fractional: Fractional,
    /// The graph of the prerequisites that evaluation follows, analysed when first needed.
    prerequisites: OnceLock<Analysis>,
}

/// What a prerequisite evaluated to, kept for the rest of one evaluation so that each
/// flag is evaluated at most once per context.
#[derive(Debug, Clone, Copy)]
struct Served<'f> {
    index: usize,
    variant: Option<&'f str>,
    reason: Reason,
    failed: bool,
}

/// Why a flag resolved as it did (OpenFeature reasons, plus `PREREQUISITE_FAILED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// Served without targeting: no rules, or a concluded flag's winner.
    Static,
    /// Targeting ran and chose nothing, so the default applies.
    Default,
    TargetingMatch,
    Disabled,
    PrerequisiteFailed,
    Error,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::Default => "DEFAULT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Disabled => "DISABLED",
            Reason::PrerequisiteFailed => "PREREQUISITE_FAILED",
            Reason::Error => "ERROR",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// flagd's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    FlagNotFound,
    ParseError,
    TypeMismatch,
    General,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorCode::ParseError => "PARSE_ERROR",
            ErrorCode::TypeMismatch => "TYPE_MISMATCH",
            ErrorCode::General => "GENERAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an evaluation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EvalError {
    pub code: ErrorCode,
    pub message: String,
}

/// Where a rollout placed the unit: `value` in `[0, total_weight)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Bucket {
    pub value: u64,
    pub total_weight: u64,
}

/// The outcome of one evaluation. It borrows from the flag set, so resolving allocates
/// nothing unless it fails.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Resolution<'f> {
    /// No variant (null) when none applies: the caller's fallback value is used.
    pub variant: Option<&'f str>,
    pub value: Option<&'f Value>,
    pub reason: Reason,
    /// Set exactly when `reason` is `ERROR`.
    pub error: Option<EvalError>,
    /// The native rule that decided.
    pub rule: Option<&'f str>,
    /// The rollout bucket, when a rollout decided.
    pub bucket: Option<Bucket>,
    /// The flag set's metadata overlaid with the flag's, as flagd reports it.
    #[schemars(with = "Map<String, Value>")]
    metadata: Metadata<'f>,
}

impl Resolution<'_> {
    /// The flag set's metadata overlaid with the flag's, as flagd reports it (a flag's
    /// null entries are left out).
    pub fn metadata(&self) -> Map<String, Value> {
        self.metadata.merged()
    }
}

/// The metadata a resolution reports, borrowed until it is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Metadata<'f> {
    flag: Option<&'f Map<String, Value>>,
    set: &'f Map<String, Value>,
}

impl Metadata<'_> {
    fn merged(&self) -> Map<String, Value> {
        let mut merged = self.set.clone();
        for (key, value) in self.flag.into_iter().flatten() {
            if !value.is_null() {
                merged.insert(key.clone(), value.clone());
            }
        }
        merged
    }
}

impl Serialize for Metadata<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.merged().serialize(serializer)
    }
}

impl FlagSet {
    pub fn new() -> FlagSet {
        FlagSet::default()
    }

    /// Adds a flag, returning the one it replaces.
    pub fn insert(&mut self, flag: Flag) -> Option<Flag> {
        self.prerequisites = OnceLock::new();
        self.flags.insert(flag.key.clone(), flag)
    }

    pub fn get(&self, key: &str) -> Option<&Flag> {
        self.flags.get(key)
    }

    /// The flags in insertion order.
    pub fn flags(&self) -> impl Iterator<Item = &Flag> {
        self.flags.values()
    }

    pub fn metadata(&self) -> &Map<String, Value> {
        &self.metadata
    }

    pub fn set_metadata(&mut self, metadata: Map<String, Value>) {
        self.metadata = metadata;
    }

    /// Sets the time, in Unix seconds, that JSONLogic's `$flagd.timestamp` reads (0 until
    /// set). The library never reads the clock.
    pub fn set_timestamp(&mut self, unix_seconds: i64) {
        self.timestamp = unix_seconds;
    }

    /// Sets the bucketing version of flagd's `fractional` that rollouts, layers and
    /// JSONLogic use (v2 until set).
    pub fn set_fractional(&mut self, fractional: Fractional) {
        self.fractional = fractional;
    }

    pub fn fractional(&self) -> Fractional {
        self.fractional
    }

    /// Evaluates a flag for a context.
    pub fn evaluate<'f>(&'f self, key: &str, context: &Context) -> Resolution<'f> {
        self.resolve(key, context, &mut Vec::new(), &mut NoTrace)
    }

    /// Evaluates a flag for a request of `flag_type`, as an OpenFeature SDK checks the
    /// answer: a value of another type is `TYPE_MISMATCH`, without a variant or value, so
    /// that the caller's default applies.
    pub fn evaluate_as<'f>(
        &'f self,
        key: &str,
        context: &Context,
        flag_type: FlagType,
    ) -> Resolution<'f> {
        let resolution = self.evaluate(key, context);
        match resolution.value {
            Some(value) if !flag_type.accepts(value) => Resolution {
                variant: None,
                value: None,
                reason: Reason::Error,
                error: Some(flag_type.mismatch(key, value)),
                rule: None,
                bucket: None,
                metadata: resolution.metadata,
            },
            _ => resolution,
        }
    }

    /// Evaluates a flag and records each step taken.
    pub fn explain<'f>(&'f self, key: &str, context: &Context) -> (Resolution<'f>, Vec<Step>) {
        let mut steps = Vec::new();
        let resolution = self.resolve(key, context, &mut Vec::new(), &mut steps);
        (resolution, steps)
    }

    /// Why a flag's prerequisites cannot be evaluated, or exported, in bounded time: a
    /// cycle, more than `MAX_PREREQUISITE_DEPTH` levels or more than `MAX_PREREQUISITES`
    /// prerequisites unfolded. `None` for a flag within the bounds and for a key that is
    /// no flag.
    pub fn out_of_bounds(&self, key: &str) -> Option<OutOfBounds> {
        self.out_of_bounds_at(self.flags.get_index_of(key)?)
    }

    fn out_of_bounds_at(&self, index: usize) -> Option<OutOfBounds> {
        let analysis = self.prerequisites.get_or_init(|| {
            let edges: Vec<Vec<usize>> = self
                .flags
                .values()
                .map(|flag| match &flag.targeting {
                    // Only an enabled, unconcluded flag evaluates its prerequisites.
                    Targeting::Native(native)
                        if flag.state == State::Enabled && native.winner.is_none() =>
                    {
                        let required = native.prerequisites.iter();
                        required
                            .filter_map(|prerequisite| self.flags.get_index_of(&prerequisite.flag))
                            .collect()
                    }
                    _ => Vec::new(),
                })
                .collect();
            Analysis::of(&edges)
        });
        bounds::out_of_bounds(analysis, index, |node| {
            self.flags
                .get_index(node)
                .map_or("", |(key, _)| key.as_str())
        })
    }

    fn resolve<'f, T: Trace>(
        &'f self,
        key: &str,
        context: &Context,
        memo: &mut Vec<Served<'f>>,
        trace: &mut T,
    ) -> Resolution<'f> {
        let Some((index, _, flag)) = self.flags.get_full(key) else {
            let message = format!("flag \"{key}\" not found");
            return self.failed(None, ErrorCode::FlagNotFound, message);
        };
        if T::ON {
            trace.record(Step::State { state: flag.state });
        }
        match &flag.targeting {
            Targeting::Native(native) => self.native(index, flag, native, context, memo, trace),
            // A disabled flagd flag has no variant: the caller's fallback applies.
            _ if flag.state == State::Disabled => self.blank(flag, Reason::Disabled),
            Targeting::None if flag.default_variant.is_some() => {
                self.fall_back(flag, Reason::Static)
            }
            Targeting::None => self.blank(flag, Reason::Default),
            Targeting::Invalid(message) => {
                self.failed(Some(flag), ErrorCode::ParseError, message.clone())
            }
            Targeting::Logic(logic) => self.logic(flag, logic, context, trace),
        }
    }

    /// A prerequisite's outcome: evaluated once per evaluation, then remembered.
    fn prerequisite<'f>(
        &'f self,
        key: &str,
        context: &Context,
        memo: &mut Vec<Served<'f>>,
    ) -> Served<'f> {
        let Some(index) = self.flags.get_index_of(key) else {
            return Served {
                index: usize::MAX,
                variant: None,
                reason: Reason::Error,
                failed: true,
            };
        };
        // At most MAX_PREREQUISITES flags are remembered: a scan beats hashing.
        if let Some(served) = memo.iter().find(|served| served.index == index) {
            return *served;
        }
        let got = self.resolve(key, context, memo, &mut NoTrace);
        let served = Served {
            index,
            variant: got.variant,
            reason: got.reason,
            failed: got.error.is_some(),
        };
        memo.push(served);
        served
    }

    /// In order: disabled, concluded, prerequisites, layer, rules.
    fn native<'f, T: Trace>(
        &'f self,
        index: usize,
        flag: &'f Flag,
        native: &'f Native,
        context: &Context,
        memo: &mut Vec<Served<'f>>,
        trace: &mut T,
    ) -> Resolution<'f> {
        if flag.state == State::Disabled {
            return self.fall_back(flag, Reason::Disabled);
        }
        if let Some(winner) = &native.winner {
            if T::ON {
                trace.record(Step::Concluded {
                    winner: winner.clone(),
                });
            }
            return self.serve(flag, winner, Reason::Static);
        }
        if !native.prerequisites.is_empty()
            && let Some(out) = self.out_of_bounds_at(index)
        {
            return self.failed(Some(flag), ErrorCode::General, out.message);
        }
        for prerequisite in &native.prerequisites {
            let got = self.prerequisite(&prerequisite.flag, context, memo);
            // A killed prerequisite fails even if its default is the required variant.
            let holds = got.reason != Reason::Disabled
                && !got.failed
                && got.variant == Some(prerequisite.variant.as_str());
            if T::ON {
                trace.record(Step::Prerequisite {
                    flag: prerequisite.flag.clone(),
                    required: prerequisite.variant.clone(),
                    got: got.variant.map(str::to_owned),
                    reason: got.reason,
                    holds,
                });
            }
            if !holds {
                return self.fall_back(flag, Reason::PrerequisiteFailed);
            }
        }
        if let Some(layer) = &native.layer {
            let bucket = context::targeting_key(context)
                .map(|unit| bucket::bucket(self.fractional.hash_joined(&layer.name, unit), 100));
            let inside =
                bucket.is_some_and(|b| u64::from(layer.from) <= b && b < u64::from(layer.to));
            if T::ON {
                trace.record(Step::Layer {
                    name: layer.name.clone(),
                    range: [layer.from, layer.to],
                    bucket,
                    inside,
                });
            }
            if !inside {
                return self.fall_back(flag, Reason::Default);
            }
        }
        if native.rules.is_empty() {
            return self.fall_back(flag, Reason::Static);
        }
        for rule in &native.rules {
            if !rule_matches(rule, context, trace) {
                continue;
            }
            let mut resolution = match &rule.action {
                Action::Serve(variant) => self.serve(flag, variant, Reason::TargetingMatch),
                Action::Rollout(rollout) => self.rollout(flag, rollout, context, trace),
            };
            resolution.rule = Some(&rule.name);
            return resolution;
        }
        self.fall_back(flag, Reason::Default)
    }

    fn rollout<'f, T: Trace>(
        &'f self,
        flag: &'f Flag,
        rollout: &'f Rollout,
        context: &Context,
        trace: &mut T,
    ) -> Resolution<'f> {
        let weights = || rollout.entries.iter().map(|(_, weight)| u64::from(*weight));
        let total_weight: u64 = weights().sum();
        let hash = match rollout.bucket_by.as_deref() {
            None => context::targeting_key(context)
                .map(|unit| self.fractional.hash_targeting_key(&flag.key, unit)),
            Some(attr) => native::bucketing_value(context, attr)
                .map(|unit| self.fractional.hash_joined(&flag.key, unit)),
        };
        let bucket = hash
            .filter(|_| total_weight > 0)
            .map(|hash| bucket::bucket(hash, total_weight));
        let chosen = bucket
            .and_then(|b| bucket::pick(b, weights()))
            .map(|index| &rollout.entries[index].0);
        if T::ON {
            let cumulative = rollout
                .entries
                .iter()
                .scan(0, |sum, (variant, weight)| {
                    *sum += u64::from(*weight);
                    Some(CumulativeWeight {
                        variant: variant.clone(),
                        up_to: *sum,
                    })
                })
                .collect();
            trace.record(Step::Rollout {
                bucket_by: rollout
                    .bucket_by
                    .clone()
                    .unwrap_or_else(|| context::TARGETING_KEY.to_owned()),
                bucket,
                total_weight,
                cumulative,
                chosen: chosen.cloned(),
            });
        }
        match (chosen, bucket) {
            (Some(variant), Some(value)) => {
                let mut resolution = self.serve(flag, variant, Reason::TargetingMatch);
                resolution.bucket = Some(Bucket {
                    value,
                    total_weight,
                });
                resolution
            }
            // No bucketing value: the default, as flagd's `fractional` yields null.
            _ => self.fall_back(flag, Reason::Default),
        }
    }

    /// A flagd flag's JSONLogic targeting, read as flagd reads its result: null means the
    /// default; a string, boolean or number names a variant.
    fn logic<'f, T: Trace>(
        &'f self,
        flag: &'f Flag,
        logic: &'f Logic,
        context: &Context,
        trace: &mut T,
    ) -> Resolution<'f> {
        let result = logic.evaluate(context, &flag.key, self.timestamp, self.fractional);
        if T::ON {
            trace.record(Step::Targeting {
                result: result.clone().into_owned(),
            });
        }
        let name: Cow<'_, str> = match &*result {
            Value::Null => {
                return if flag.default_variant.is_some() {
                    self.fall_back(flag, Reason::Default)
                } else {
                    self.blank(flag, Reason::Default)
                };
            }
            Value::String(name) => Cow::Borrowed(name),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Number(n) => Cow::Owned(js::number_text(n)),
            // Every flagd engine fails such an evaluation with GENERAL.
            other => {
                let message = format!("targeting returned {other}, which is not a variant name");
                return self.failed(Some(flag), ErrorCode::General, message);
            }
        };
        match flag.variant(&name) {
            Some((variant, value)) => Resolution {
                variant: Some(variant),
                value: Some(value),
                ..self.blank(flag, Reason::TargetingMatch)
            },
            None => {
                let message = format!(
                    "targeting returned variant \"{name}\", which flag \"{}\" does not declare",
                    flag.key
                );
                self.failed(Some(flag), ErrorCode::General, message)
            }
        }
    }

    /// A resolution without a variant.
    fn blank<'f>(&'f self, flag: &'f Flag, reason: Reason) -> Resolution<'f> {
        Resolution {
            variant: None,
            value: None,
            reason,
            error: None,
            rule: None,
            bucket: None,
            metadata: Metadata {
                flag: Some(&flag.metadata),
                set: &self.metadata,
            },
        }
    }

    fn failed<'f>(
        &'f self,
        flag: Option<&'f Flag>,
        code: ErrorCode,
        message: String,
    ) -> Resolution<'f> {
        Resolution {
            variant: None,
            value: None,
            reason: Reason::Error,
            error: Some(EvalError { code, message }),
            rule: None,
            bucket: None,
            metadata: Metadata {
                flag: flag.map(|flag| &flag.metadata),
                set: &self.metadata,
            },
        }
    }

    /// Serves a variant by name.
    fn serve<'f>(&'f self, flag: &'f Flag, name: &str, reason: Reason) -> Resolution<'f> {
        match flag.variant(name) {
            Some((variant, value)) => Resolution {
                variant: Some(variant),
                value: Some(value),
                ..self.blank(flag, reason)
            },
            None => {
                let message = format!("flag \"{}\" has no variant \"{name}\"", flag.key);
                self.failed(Some(flag), ErrorCode::General, message)
            }
        }
    }

    /// Serves the default variant, or nothing when the flag has none.
    fn fall_back<'f>(&'f self, flag: &'f Flag, reason: Reason) -> Resolution<'f> {
        match &flag.default_variant {
            Some(default) => self.serve(flag, default, reason),
            None => self.blank(flag, reason),
        }
    }
}

/// Whether every condition of a rule holds. Traced, it records the conditions up to the
/// first that fails.
fn rule_matches<T: Trace>(rule: &Rule, context: &Context, trace: &mut T) -> bool {
    if !T::ON {
        return rule
            .conditions
            .iter()
            .all(|condition| native::holds(condition, context::lookup(context, &condition.attr)));
    }
    let mut checks = Vec::new();
    let mut matched = true;
    for condition in &rule.conditions {
        let actual = context::lookup(context, &condition.attr);
        let holds = native::holds(condition, actual);
        checks.push(ConditionCheck {
            attr: condition.attr.clone(),
            op: condition.op,
            expected: condition.value.clone(),
            actual: actual.cloned(),
            holds,
        });
        if !holds {
            matched = false;
            break;
        }
    }
    trace.record(Step::Rule {
        name: rule.name.clone(),
        conditions: checks,
        matched,
    });
    matched
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::eval::flag::{Layer, Prerequisite};
    use crate::eval::{Condition, Op};

    fn context(value: Value) -> Context {
        value.as_object().cloned().unwrap_or_default()
    }

    fn native_flag(key: &str, native: Native) -> Flag {
        Flag {
            key: key.to_owned(),
            state: State::Enabled,
            variants: [("baseline", json!("v1")), ("candidate", json!("v2"))]
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            default_variant: Some("baseline".to_owned()),
            metadata: Map::new(),
            targeting: Targeting::Native(native),
        }
    }

    fn when(attr: &str, op: Op, value: Value) -> Condition {
        Condition {
            attr: attr.to_owned(),
            op,
            value,
        }
    }

    fn rule(name: &str, conditions: Vec<Condition>, action: Action) -> Rule {
        Rule {
            name: name.to_owned(),
            conditions,
            action,
        }
    }

    fn rollout(bucket_by: Option<&str>, entries: &[(&str, u32)]) -> Action {
        Action::Rollout(Rollout {
            bucket_by: bucket_by.map(str::to_owned),
            entries: entries
                .iter()
                .map(|(variant, weight)| ((*variant).to_owned(), *weight))
                .collect(),
        })
    }

    fn set_of(flags: Vec<Flag>) -> FlagSet {
        let mut set = FlagSet::new();
        for flag in flags {
            set.insert(flag);
        }
        set
    }

    fn ranker() -> Native {
        Native {
            rules: vec![
                rule(
                    "qa-accounts",
                    vec![when("email", Op::EndsWith, json!("@example.com"))],
                    Action::Serve("candidate".to_owned()),
                ),
                rule(
                    "sg-10pct",
                    vec![when("country", Op::In, json!(["SG"]))],
                    rollout(None, &[("candidate", 10), ("baseline", 90)]),
                ),
            ],
            ..Native::default()
        }
    }

    #[test]
    fn rules_apply_in_order() {
        let set = set_of(vec![native_flag("ranker", ranker())]);
        let qa = set.evaluate(
            "ranker",
            &context(json!({"email": "ann@example.com", "country": "SG"})),
        );
        assert_eq!(qa.variant, Some("candidate"));
        assert_eq!(qa.value, Some(&json!("v2")));
        assert_eq!(qa.reason, Reason::TargetingMatch);
        assert_eq!(qa.rule, Some("qa-accounts"));
        assert_eq!(qa.bucket, None);

        let elsewhere = set.evaluate(
            "ranker",
            &context(json!({"email": "bo@x.org", "country": "MY"})),
        );
        assert_eq!(
            (elsewhere.variant, elsewhere.reason, elsewhere.rule),
            (Some("baseline"), Reason::Default, None)
        );
    }

    #[test]
    fn rollout_buckets_on_flag_key_and_targeting_key() {
        let set = set_of(vec![native_flag("ranker", ranker())]);
        let mut candidates = 0;
        for i in 0..1000 {
            let unit = format!("user-{i}");
            let r = set.evaluate(
                "ranker",
                &context(json!({"country": "SG", "targetingKey": unit})),
            );
            let expected = bucket::bucket(bucket::hash("ranker", &unit), 100);
            assert_eq!(
                r.bucket,
                Some(Bucket {
                    value: expected,
                    total_weight: 100
                })
            );
            assert_eq!(r.rule, Some("sg-10pct"));
            assert_eq!(
                r.variant,
                Some(if expected < 10 {
                    "candidate"
                } else {
                    "baseline"
                })
            );
            candidates += usize::from(r.variant == Some("candidate"));
        }
        assert!(
            (60..140).contains(&candidates),
            "{candidates} of 1000 in a 10% rollout"
        );

        let no_unit = set.evaluate("ranker", &context(json!({"country": "SG"})));
        assert_eq!(
            (no_unit.variant, no_unit.reason, no_unit.bucket),
            (Some("baseline"), Reason::Default, None)
        );
        assert_eq!(no_unit.rule, Some("sg-10pct"));
    }

    #[test]
    fn rollout_can_bucket_by_an_attribute() {
        let native = Native {
            rules: vec![rule(
                "all",
                vec![],
                rollout(Some("user_id"), &[("candidate", 1), ("baseline", 1)]),
            )],
            ..Native::default()
        };
        let mut set = set_of(vec![native_flag("f", native)]);
        let ctx = context(json!({"user_id": "42", "targetingKey": "ignored"}));
        let r = set.evaluate("f", &ctx);
        let expected = bucket::bucket(bucket::hash("f", "42"), 2);
        assert_eq!(r.bucket.map(|b| b.value), Some(expected));
        set.set_fractional(Fractional::V3);
        let v3 = set.evaluate("f", &ctx);
        let expected = bucket::bucket(Fractional::V3.hash_joined("f", "42"), 2);
        assert_eq!(v3.bucket.map(|b| b.value), Some(expected));
        for unbucketed in [json!({"targetingKey": "t"}), json!({"user_id": 42})] {
            let r = set.evaluate("f", &context(unbucketed));
            assert_eq!((r.variant, r.reason), (Some("baseline"), Reason::Default));
        }
    }

    #[test]
    fn no_rules_is_static_and_disabled_serves_default() {
        let mut set = set_of(vec![native_flag("plain", Native::default())]);
        let r = set.evaluate("plain", &context(json!({})));
        assert_eq!((r.variant, r.reason), (Some("baseline"), Reason::Static));

        let mut killed = native_flag("killed", ranker());
        killed.state = State::Disabled;
        set.insert(killed);
        let r = set.evaluate("killed", &context(json!({"email": "ann@example.com"})));
        assert_eq!((r.variant, r.reason), (Some("baseline"), Reason::Disabled));
    }

    #[test]
    fn concluded_flag_serves_its_winner() {
        let native = Native {
            winner: Some("candidate".to_owned()),
            ..ranker()
        };
        let set = set_of(vec![native_flag("done", native)]);
        let r = set.evaluate("done", &context(json!({"country": "MY"})));
        assert_eq!(
            (r.variant, r.reason, r.rule),
            (Some("candidate"), Reason::Static, None)
        );
    }

    #[test]
    fn prerequisites_must_hold() {
        let gate = Native {
            rules: vec![rule(
                "beta",
                vec![when("beta", Op::Eq, json!(true))],
                Action::Serve("candidate".to_owned()),
            )],
            ..Native::default()
        };
        let dependent = Native {
            prerequisites: vec![Prerequisite {
                flag: "gate".to_owned(),
                variant: "candidate".to_owned(),
            }],
            rules: vec![rule(
                "everyone",
                vec![],
                Action::Serve("candidate".to_owned()),
            )],
            ..Native::default()
        };
        let mut set = set_of(vec![
            native_flag("gate", gate),
            native_flag("dependent", dependent.clone()),
        ]);
        let open = set.evaluate("dependent", &context(json!({"beta": true})));
        assert_eq!(
            (open.variant, open.reason),
            (Some("candidate"), Reason::TargetingMatch)
        );
        let closed = set.evaluate("dependent", &context(json!({"beta": false})));
        assert_eq!(
            (closed.variant, closed.reason),
            (Some("baseline"), Reason::PrerequisiteFailed)
        );

        let mut killed = native_flag("gate", Native::default());
        killed.state = State::Disabled;
        set.insert(killed);
        let killed = set.evaluate("dependent", &context(json!({"beta": true})));
        assert_eq!(killed.reason, Reason::PrerequisiteFailed);

        let set = set_of(vec![native_flag("dependent", dependent)]);
        let missing = set.evaluate("dependent", &context(json!({"beta": true})));
        assert_eq!(missing.reason, Reason::PrerequisiteFailed);
    }

    fn requiring(others: &[&str]) -> Native {
        Native {
            prerequisites: others
                .iter()
                .map(|other| Prerequisite {
                    flag: (*other).to_owned(),
                    variant: "candidate".to_owned(),
                })
                .collect(),
            rules: vec![rule(
                "everyone",
                vec![],
                Action::Serve("candidate".to_owned()),
            )],
            ..Native::default()
        }
    }

    #[test]
    fn prerequisite_cycles_are_errors() {
        let set = set_of(vec![
            native_flag("a", requiring(&["b"])),
            native_flag("b", requiring(&["a"])),
            native_flag("c", requiring(&["a"])),
        ]);
        let on = set.evaluate("a", &context(json!({})));
        assert_eq!((on.variant, on.reason), (None, Reason::Error));
        let error = on.error.unwrap();
        assert_eq!(error.code, ErrorCode::General);
        assert_eq!(error.message, "prerequisites form a cycle (a → b → a)");
        let leading = set.evaluate("c", &context(json!({}))).error.unwrap();
        assert_eq!(
            leading.message,
            "prerequisite `a` leads into a cycle (a → b → a)"
        );
    }

    #[test]
    fn a_killed_flag_breaks_a_cycle() {
        let mut killed = native_flag("b", requiring(&["a"]));
        killed.state = State::Disabled;
        let set = set_of(vec![native_flag("a", requiring(&["b"])), killed]);
        let r = set.evaluate("a", &context(json!({})));
        assert_eq!(
            (r.variant, r.reason),
            (Some("baseline"), Reason::PrerequisiteFailed)
        );
    }

    /// Flags `f0`..`f{count - 1}`, each requiring the `width` after it; every flag serves
    /// `candidate`, so every prerequisite holds.
    fn fan_out(count: usize, width: usize) -> FlagSet {
        let keys: Vec<String> = (0..count).map(|i| format!("f{i}")).collect();
        set_of(
            (0..count)
                .map(|i| {
                    let next: Vec<&str> = keys[i + 1..count.min(i + 1 + width)]
                        .iter()
                        .map(String::as_str)
                        .collect();
                    native_flag(&keys[i], requiring(&next))
                })
                .collect(),
        )
    }

    #[test]
    fn each_prerequisite_is_evaluated_once_per_evaluation() {
        let set = fan_out(16, 2);
        assert!(set.out_of_bounds("f0").is_some(), "too wide to evaluate");
        let within = set.evaluate("f8", &context(json!({})));
        assert_eq!(
            (within.variant, within.reason),
            (Some("candidate"), Reason::TargetingMatch)
        );
        // Unfolded, f8's requires hold 53 prerequisites; remembered, 7 flags.
        let mut memo = Vec::new();
        set.resolve("f8", &context(json!({})), &mut memo, &mut NoTrace);
        assert_eq!(memo.len(), 7, "f9 to f15, once each");
    }

    #[test]
    fn chains_beyond_the_depth_limit_fail_without_evaluating() {
        let set = fan_out(10_000, 1);
        let deep = set.evaluate("f0", &context(json!({})));
        let error = deep.error.unwrap();
        assert_eq!(error.code, ErrorCode::General);
        assert!(
            error
                .message
                .contains("nest 9999 levels deep (f0 → f1 → f2 → … → f9999 (10000 flags))"),
            "{}",
            error.message
        );
        let limit = 10_000 - 1 - crate::eval::MAX_PREREQUISITE_DEPTH;
        let within = set.evaluate(&format!("f{limit}"), &context(json!({})));
        assert_eq!(within.reason, Reason::TargetingMatch);
        let beyond = set.evaluate(&format!("f{}", limit - 1), &context(json!({})));
        assert_eq!(beyond.reason, Reason::Error);
    }

    #[test]
    fn layer_admits_only_its_range() {
        let layered = |from, to| Native {
            layer: Some(Layer {
                name: "ranking".to_owned(),
                from,
                to,
            }),
            rules: vec![rule(
                "everyone",
                vec![],
                Action::Serve("candidate".to_owned()),
            )],
            ..Native::default()
        };
        let set = set_of(vec![
            native_flag("low", layered(0, 50)),
            native_flag("high", layered(50, 100)),
        ]);
        for i in 0..200 {
            let unit = format!("u{i}");
            let layer_bucket = bucket::bucket(bucket::hash("ranking", &unit), 100);
            let ctx = context(json!({"targetingKey": unit}));
            let (low, high) = (set.evaluate("low", &ctx), set.evaluate("high", &ctx));
            assert_eq!(
                low.variant == Some("candidate"),
                layer_bucket < 50,
                "{unit}"
            );
            assert_eq!(
                high.variant == Some("candidate"),
                layer_bucket >= 50,
                "{unit}"
            );
            let outside = if layer_bucket < 50 { high } else { low };
            assert_eq!(outside.reason, Reason::Default);
        }
        let r = set.evaluate("low", &context(json!({})));
        assert_eq!((r.variant, r.reason), (Some("baseline"), Reason::Default));
    }

    #[test]
    fn explain_records_each_step() {
        let set = set_of(vec![native_flag("ranker", ranker())]);
        let ctx = context(json!({"email": "bo@x.org", "country": "SG", "targetingKey": "user-1"}));
        let (resolution, steps) = set.explain("ranker", &ctx);
        assert_eq!(resolution, set.evaluate("ranker", &ctx));
        assert_eq!(steps.len(), 4, "{steps:#?}");
        assert_eq!(
            steps[0],
            Step::State {
                state: State::Enabled
            }
        );
        let Step::Rule {
            name,
            conditions,
            matched,
        } = &steps[1]
        else {
            panic!("{:?}", steps[1])
        };
        assert_eq!((name.as_str(), *matched), ("qa-accounts", false));
        assert_eq!(conditions[0].actual, Some(json!("bo@x.org")));
        assert!(matches!(&steps[2], Step::Rule { matched: true, .. }));
        let Step::Rollout {
            bucket,
            total_weight,
            cumulative,
            chosen,
            ..
        } = &steps[3]
        else {
            panic!("{:?}", steps[3])
        };
        assert_eq!(*total_weight, 100);
        assert_eq!(
            cumulative,
            &[("candidate", 10), ("baseline", 100)].map(|(variant, up_to)| CumulativeWeight {
                variant: variant.to_owned(),
                up_to
            })
        );
        assert_eq!(
            bucket.map(|value| Bucket {
                value,
                total_weight: 100
            }),
            resolution.bucket
        );
        assert_eq!(chosen.as_deref(), resolution.variant);
    }

    #[test]
    fn missing_flag_and_undeclared_variant_are_errors() {
        let native = Native {
            rules: vec![rule("bad", vec![], Action::Serve("nope".to_owned()))],
            ..Native::default()
        };
        let set = set_of(vec![native_flag("f", native)]);
        let missing = set.evaluate("zzz", &context(json!({})));
        assert_eq!(missing.reason, Reason::Error);
        assert_eq!(missing.error.map(|e| e.code), Some(ErrorCode::FlagNotFound));
        let bad = set.evaluate("f", &context(json!({})));
        assert_eq!(bad.error.map(|e| e.code), Some(ErrorCode::General));
    }
}
