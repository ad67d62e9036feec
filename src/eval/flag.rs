//! The engine's form of a flag: what a TOML flag and a flagd flag definition both become.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::condition::Condition;
use super::logic::Logic;

/// One flag, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Flag {
    pub key: String,
    /// A disabled (killed) TOML flag serves its default variant; a disabled flagd flag
    /// serves the caller's fallback, as flagd resolves it without a variant.
    pub state: State,
    pub variants: IndexMap<String, Value>,
    /// The variant served when nothing else decides. flagd allows none, in which case the
    /// caller's fallback value is used.
    pub default_variant: Option<String>,
    pub metadata: Map<String, Value>,
    pub targeting: Targeting,
}

impl Flag {
    /// A variant by name, with the name as the flag stores it. Flags have few variants,
    /// and scanning them is several times faster than SipHash.
    pub fn variant(&self, name: &str) -> Option<(&str, &Value)> {
        const SCAN_UP_TO: usize = 16;
        let found = if self.variants.len() <= SCAN_UP_TO {
            self.variants.iter().find(|(variant, _)| *variant == name)
        } else {
            self.variants.get_key_value(name)
        };
        found.map(|(variant, value)| (variant.as_str(), value))
    }
}

/// How a flag picks a variant beyond its default.
#[derive(Debug, Clone)]
pub enum Targeting {
    /// Always the default variant (reason `STATIC`).
    None,
    /// A flagd JSONLogic expression that yields a variant name.
    Logic(Logic),
    /// A flagd targeting expression that did not compile. flagd accepts such a file and
    /// fails each evaluation of the flag with `PARSE_ERROR`, and so does the engine.
    Invalid(String),
    /// A TOML flag's lifecycle and rules. Every TOML flag uses this form, even
    /// one without rules.
    Native(Native),
}

/// The targeting of a TOML flag, evaluated in this order: conclusion, prerequisites,
/// layer, rules.
#[derive(Debug, Clone, Default)]
pub struct Native {
    /// The concluded winner, served to everyone.
    pub winner: Option<String>,
    pub prerequisites: Vec<Prerequisite>,
    pub layer: Option<Layer>,
    pub rules: Vec<Rule>,
}

/// Another flag that must evaluate to `variant` for this flag to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prerequisite {
    pub flag: String,
    pub variant: String,
}

/// A mutually exclusive traffic slice: the flag applies to units whose layer bucket
/// (0..100) is in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub name: String,
    pub from: u32,
    pub to: u32,
}

/// A targeting rule: when every condition holds, the action decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    /// The rule's `when` conditions with its segment's conditions already inlined.
    pub conditions: Vec<Condition>,
    pub action: Action,
}

/// What a matching rule serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Serve(String),
    Rollout(Rollout),
}

/// A weighted split of units over variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// The context attribute to bucket on; the targeting key when `None`.
    pub bucket_by: Option<String>,
    /// `(variant, weight)` in file order: the first entry whose cumulative weight
    /// exceeds the bucket wins.
    pub entries: Vec<(String, u32)>,
}

/// Whether a flag serves: a disabled (killed) flag serves its default to everyone.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum State {
    #[default]
    Enabled,
    Disabled,
}
