//! The explain trace: each step an evaluation took. Evaluation is generic over a
//! [`Trace`], and the no-op tracer compiles every step away, so a plain evaluation pays
//! nothing for it.

use serde_json::Value;

use super::condition::Op;
use super::flag::State;
use super::set::Reason;

/// One step of an evaluation, in the order taken.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The flag's state; a disabled flag stops here.
    State(State),
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
    /// The unit's layer bucket (0..100), `None` without a targeting key.
    Layer {
        name: String,
        from: u32,
        to: u32,
        bucket: Option<u64>,
        inside: bool,
    },
    /// A rule was tried: its conditions up to the first that failed.
    Rule {
        name: String,
        conditions: Vec<ConditionCheck>,
        matched: bool,
    },
    /// A rollout bucketed the unit. `bucket` is `None` when the bucketing value is missing.
    Rollout {
        bucket_by: String,
        bucket: Option<u64>,
        total_weight: u64,
        /// Each entry with the cumulative weight up to and including it.
        cumulative: Vec<(String, u64)>,
        chosen: Option<String>,
    },
    /// A flagd JSONLogic expression produced this value.
    Targeting { result: Value },
}

/// One condition of a rule as evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionCheck {
    pub attr: String,
    pub op: Op,
    pub expected: Value,
    /// The context's value, `None` when missing.
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
