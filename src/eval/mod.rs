//! The evaluation engine: one engine for TOML flags and flagd flag definitions, with
//! flagd's semantics so that offline and served results agree (SPEC §7).
//!
//! A [`FlagSet`] holds [`Flag`]s by key. Each flag's [`Targeting`] is either nothing, a
//! compiled JSONLogic expression (flagd files, [`FlagSet::from_flagd_json`]) or the
//! [`Native`] form of a TOML flag. [`FlagSet::evaluate`] returns a [`Resolution`];
//! [`FlagSet::explain`] also returns the [`Step`]s taken; [`FlagSet::resolve_typed`]
//! answers a typed request with a fallback value, as an OpenFeature SDK does.

mod bucket;
mod context;
mod flag;
mod flagd;
mod js;
mod logic;
mod native;
mod semver;
mod set;
mod trace;
mod typed;

pub use context::{Context, TARGETING_KEY};
pub use flag::{Action, Flag, Layer, Native, Prerequisite, Rollout, Rule, State, Targeting};
pub use logic::Logic;
pub use set::{Bucket, ErrorCode, EvalError, FlagSet, Reason, Resolution};
pub use trace::{ConditionCheck, Step};
pub use typed::{FlagType, TypedResolution};
