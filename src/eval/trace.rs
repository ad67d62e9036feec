//! The explain trace: each step an evaluation took. Evaluation is generic over a
//! [`Trace`], and the no-op tracer compiles every step away, so a plain evaluation pays
//! nothing for it.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::condition::Op;
use super::flag::State;
use super::set::Reason;

/// One step of an evaluation, in the order taken. In JSON, `step` names the kind.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The flag's state; a disabled flag stops here.
    State { state: State },
    /// The flag is concluded and serves its winner.
    Concluded { winner: String },
    /// A prerequisite flag was evaluated; the flag goes on only when it `holds`.
    Prerequisite {
        flag: String,
        required: String,
        got: Option<String>,
        reason: Reason,
        holds: bool,
    },
    /// The unit's layer bucket (0..100), null without a targeting key.
    Layer {
        #[serde(rename = "layer")]
        name: String,
        /// The flag's range of the layer, `[from, to)`.
        range: [u32; 2],
        bucket: Option<u64>,
        inside: bool,
    },
    /// A rule was tried: its conditions up to the first that failed.
    Rule {
        #[serde(rename = "rule")]
        name: String,
        conditions: Vec<ConditionCheck>,
        matched: bool,
    },
    /// A rollout bucketed the unit. `bucket` is null when the bucketing value is missing.
    Rollout {
        bucket_by: String,
        bucket: Option<u64>,
        total_weight: u64,
        /// Each entry with the cumulative weight up to and including it.
        cumulative: Vec<CumulativeWeight>,
        chosen: Option<String>,
    },
    /// A flagd JSONLogic expression produced this value.
    Targeting { result: Value },
}

/// A rollout entry with the weight of the entries up to and including it: a bucket below
/// `up_to` (and at or above the previous entry's) picks `variant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CumulativeWeight {
    pub variant: String,
    pub up_to: u64,
}

/// One condition of a rule as evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConditionCheck {
    pub attr: String,
    pub op: Op,
    pub expected: Value,
    /// The context's value, null when missing.
    pub actual: Option<Value>,
    pub holds: bool,
}

/// Where steps go. Steps are built only when `ON`, so the no-op tracer costs nothing.
pub(crate) trait Trace {
    const ON: bool;
    fn record(&mut self, step: Step);
}

/// The tracer of a plain evaluation.
pub(crate) struct NoTrace;

impl Trace for NoTrace {
    const ON: bool = false;
    fn record(&mut self, _step: Step) {}
}

impl Trace for Vec<Step> {
    const ON: bool = true;
    fn record(&mut self, step: Step) {
        self.push(step);
    }
}
