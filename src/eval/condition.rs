//! Conditions of the engine: an attribute, an operator and an operand.

use serde_json::Value;

/// A comparison operator of a condition, named in JSON as in a flag file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    StartsWith,
    EndsWith,
    Contains,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverNe,
    SemverLt,
    SemverLte,
    SemverGt,
    SemverGte,
    SemverTilde,
    SemverCaret,
}

impl Op {
    /// Every operator, in the order the README lists them.
    pub const ALL: [Op; 19] = [
        Op::Eq,
        Op::Ne,
        Op::In,
        Op::NotIn,
        Op::StartsWith,
        Op::EndsWith,
        Op::Contains,
        Op::Lt,
        Op::Lte,
        Op::Gt,
        Op::Gte,
        Op::SemverEq,
        Op::SemverNe,
        Op::SemverLt,
        Op::SemverLte,
        Op::SemverGt,
        Op::SemverGte,
        Op::SemverTilde,
        Op::SemverCaret,
    ];

    /// The operator's name as written in a flag file.
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::StartsWith => "starts_with",
            Op::EndsWith => "ends_with",
            Op::Contains => "contains",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::SemverEq => "semver_eq",
            Op::SemverNe => "semver_ne",
            Op::SemverLt => "semver_lt",
            Op::SemverLte => "semver_lte",
            Op::SemverGt => "semver_gt",
            Op::SemverGte => "semver_gte",
            Op::SemverTilde => "semver_tilde",
            Op::SemverCaret => "semver_caret",
        }
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Operators that hold when the attribute is missing.
    pub fn holds_when_missing(self) -> bool {
        matches!(self, Op::Ne | Op::NotIn)
    }

    /// What the operand must be, for validation messages.
    pub fn operand(self) -> Operand {
        match self {
            Op::Eq | Op::Ne => Operand::Scalar,
            Op::In | Op::NotIn => Operand::List,
            Op::StartsWith | Op::EndsWith | Op::Contains => Operand::String,
            Op::Lt | Op::Lte | Op::Gt | Op::Gte => Operand::Number,
            _ => Operand::Semver,
        }
    }
}

/// The kind of value an operator compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// A string, number or boolean.
    Scalar,
    /// An array of scalars.
    List,
    String,
    Number,
    /// A string that parses as a semantic version.
    Semver,
}

/// One condition of a rule or segment: all conditions of a `when` list must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub attr: String,
    pub op: Op,
    pub value: Value,
}
