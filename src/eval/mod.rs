//! The evaluation engine: one engine for TOML flags and flagd flag definitions, with
//! flagd's semantics so that offline and served results agree.
//!
//! A [`FlagSet`] holds [`Flag`]s by key. Each flag's [`Targeting`] is either nothing, a
//! compiled JSONLogic expression (flagd files, [`FlagSet::from_flagd_json`]) or the
//! [`Native`] form of a TOML flag. [`FlagSet::evaluate`] returns a [`Resolution`];
//! [`FlagSet::explain`] also returns the [`Step`]s taken; [`FlagSet::resolve_typed`]
//! answers a typed request with a fallback value, as an OpenFeature SDK does.
//! [`simulate`] counts many evaluations of one flag over contexts that a
//! [`ContextGenerator`] can make. The engine knows nothing of TOML files: the `compile` module
//! turns a repository's flags into its types.

mod bounds;
mod bucket;
mod condition;
mod context;
mod flag;
mod flagd;
mod generate;
mod graph;
mod js;
mod lines;
mod logic;
mod native;
mod semver;
mod set;
mod simulate;
mod trace;
mod typed;

pub use bounds::{
    MAX_PREREQUISITE_DEPTH, MAX_PREREQUISITES, OutOfBounds, Unbounded, out_of_bounds,
};
pub use bucket::{Fractional, MAX_TOTAL_WEIGHT};
pub use condition::{Condition, Op, Operand};
pub use context::{
    Context, Piece, TARGETING_KEY, insert_path, numbered_lines, parse_attribute, parse_context,
    pieces,
};
pub use flag::{Action, Flag, Layer, Native, Prerequisite, Rollout, Rule, State, Targeting};
pub use generate::{ContextGenerator, Draw};
pub use graph::{Analysis, Below, Reach, cycle_text};
pub use lines::{ContextReader, Reads};
pub use logic::Logic;
pub use set::{Bucket, ErrorCode, EvalError, FlagSet, Reason, Resolution};
pub use simulate::{
    ChiSquare, Outcome, RolloutEntry, RolloutSplit, Simulation, VariantCount, simulate,
    simulate_read,
};
pub use trace::{ConditionCheck, CumulativeWeight, Step};
pub use typed::{FlagType, TypedResolution};
