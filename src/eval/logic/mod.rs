//! JSONLogic as flagd runs it: the operators of jsonlogic.com with JavaScript semantics,
//! plus flagd's `fractional`, `sem_ver`, `starts_with` and `ends_with`.
//!
//! An expression is compiled once into a tree of [`Node`]s; evaluation walks the tree
//! and borrows from the context wherever it can.
//!
//! Not a well-kept crate: datalogic-rs (which flagd's Rust evaluator builds on) was
//! considered, but it accepts many operators flagd does not (flagd reports those as
//! `PARSE_ERROR`), its built-in `starts_with` / `ends_with` differ from flagd's
//! null-on-bad-input ones, and its API changed across three major versions in a year.
//! The operator set flagd supports is small enough to own.

mod custom;
mod eval;

use std::borrow::Cow;
use std::cell::Cell;

use anyhow::{Result, bail};
use serde_json::Value;

use super::context::Context;
use eval::{Data, Env};

/// A compiled JSONLogic expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Logic {
    root: Node,
}

impl Logic {
    /// Compiles an expression. Fails on an operator flagd does not know, naming it.
    pub fn compile(expression: &Value) -> Result<Logic> {
        Ok(Logic {
            root: compile(expression)?,
        })
    }

    /// Evaluates the expression against a context. `flag_key` and `timestamp` (Unix
    /// seconds) are what `$flagd.flagKey` and `$flagd.timestamp` read. An evaluation that
    /// runs out of its budget (see the `eval` module) yields null, so the flag serves its
    /// default rather than a variant chosen on a cut-short computation.
    pub fn evaluate<'a>(
        &'a self,
        context: &'a Context,
        flag_key: &'a str,
        timestamp: i64,
    ) -> Cow<'a, Value> {
        let env = Env {
            root: context,
            flag_key,
            timestamp,
            budget: Cell::new(eval::BUDGET),
            exhausted: Cell::new(false),
        };
        let result = eval::eval(&self.root, &env, Data::Root);
        if env.exhausted.get() {
            return Cow::Owned(Value::Null);
        }
        result
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    /// An array with at least one expression among its elements.
    Array(Vec<Node>),
    Var {
        path: Path,
        default: Option<Box<Node>>,
    },
    Op(Op, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Path {
    /// Dotted path split at compile time; empty for the whole data.
    Static(Vec<String>),
    /// A path computed by an expression.
    Dynamic(Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    If,
    Eq,
    StrictEq,
    Ne,
    StrictNe,
    Not,
    Truthy,
    And,
    Or,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    Cat,
    Substr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Min,
    Max,
    Merge,
    Missing,
    MissingSome,
    Map,
    Filter,
    Reduce,
    All,
    None,
    Some,
    Fractional,
    SemVer,
    StartsWith,
    EndsWith,
}

impl Op {
    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "if" | "?:" => Op::If,
            "==" => Op::Eq,
            "===" => Op::StrictEq,
            "!=" => Op::Ne,
            "!==" => Op::StrictNe,
            "!" => Op::Not,
            "!!" => Op::Truthy,
            "and" => Op::And,
            "or" => Op::Or,
            "<" => Op::Lt,
            "<=" => Op::Lte,
            ">" => Op::Gt,
            ">=" => Op::Gte,
            "in" => Op::In,
            "cat" => Op::Cat,
            "substr" => Op::Substr,
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Mod,
            "min" => Op::Min,
            "max" => Op::Max,
            "merge" => Op::Merge,
            "missing" => Op::Missing,
            "missing_some" => Op::MissingSome,
            "map" => Op::Map,
            "filter" => Op::Filter,
            "reduce" => Op::Reduce,
            "all" => Op::All,
            "none" => Op::None,
            "some" => Op::Some,
            "fractional" => Op::Fractional,
            "sem_ver" => Op::SemVer,
            "starts_with" => Op::StartsWith,
            "ends_with" => Op::EndsWith,
            _ => return None,
        })
    }
}

fn compile(json: &Value) -> Result<Node> {
    match json {
        Value::Array(items) => {
            let nodes = items.iter().map(compile).collect::<Result<Vec<_>>>()?;
            if !nodes.iter().all(|node| matches!(node, Node::Literal(_))) {
                return Ok(Node::Array(nodes));
            }
            // The elements' values, moved rather than cloned again: cloning `json` at each
            // level would copy a deeply nested literal once per level.
            let values = nodes.into_iter().map(|node| match node {
                Node::Literal(value) => value,
                _ => unreachable!("all literals, checked above"),
            });
            Ok(Node::Literal(Value::Array(values.collect())))
        }
        // An object is an operation only with exactly one key; otherwise it is data.
        Value::Object(members) if members.len() == 1 => {
            let (name, args) = members.iter().next().expect("one member");
            if name == "var" {
                return compile_var(args);
            }
            if name == "$ref" {
                bail!("no evaluator named {args} in $evaluators");
            }
            let Some(op) = Op::from_name(name) else {
                bail!("unknown operator \"{name}\"");
            };
            let args = match args {
                Value::Array(items) => items.iter().map(compile).collect::<Result<_>>()?,
                single => vec![compile(single)?],
            };
            Ok(Node::Op(op, args))
        }
        other => Ok(Node::Literal(other.clone())),
    }
}

fn compile_var(args: &Value) -> Result<Node> {
    let (path, default) = match args {
        Value::Array(items) => (items.first().unwrap_or(&Value::Null), items.get(1)),
        single => (single, None),
    };
    let path = match path {
        Value::Null => Path::Static(Vec::new()),
        Value::String(text) if text.is_empty() => Path::Static(Vec::new()),
        Value::String(text) => Path::Static(text.split('.').map(str::to_owned).collect()),
        Value::Number(n) => Path::Static(vec![n.to_string()]),
        expression => Path::Dynamic(Box::new(compile(expression)?)),
    };
    let default = default.map(compile).transpose()?.map(Box::new);
    Ok(Node::Var { path, default })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_arrays_fold_into_one_value() {
        let logic = Logic::compile(&json!({"in": ["a", ["a", "b"]]})).unwrap();
        let Node::Op(Op::In, args) = &logic.root else {
            panic!("expected in: {:?}", logic.root)
        };
        assert_eq!(args[1], Node::Literal(json!(["a", "b"])));
    }

    #[test]
    fn unknown_operators_are_named() {
        let err = Logic::compile(&json!({"if": [{"frobnicate": [1]}, "a", "b"]})).unwrap_err();
        assert_eq!(err.to_string(), "unknown operator \"frobnicate\"");
        let err = Logic::compile(&json!({"$ref": "missing_evaluator"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no evaluator named \"missing_evaluator\" in $evaluators"
        );
    }

    #[test]
    fn multi_key_objects_are_data() {
        let logic = Logic::compile(&json!({"a": 1, "b": {"var": "x"}})).unwrap();
        assert_eq!(
            logic.root,
            Node::Literal(json!({"a": 1, "b": {"var": "x"}}))
        );
    }

    #[test]
    fn var_paths_split_at_compile_time() {
        let logic = Logic::compile(&json!({"var": ["user.name", "anon"]})).unwrap();
        assert_eq!(
            logic.root,
            Node::Var {
                path: Path::Static(vec!["user".into(), "name".into()]),
                default: Some(Box::new(Node::Literal(json!("anon")))),
            }
        );
    }
}
