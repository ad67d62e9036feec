//! Resolution for a typed request, as an OpenFeature SDK makes it: the caller names the
//! type it expects and supplies a fallback value for when the flag cannot give one.

use serde_json::{Map, Value};

use super::context::Context;
use super::set::{ErrorCode, EvalError, FlagSet, Reason};

/// The type of value a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagType {
    Boolean,
    String,
    Integer,
    Float,
    Object,
}

impl FlagType {
    /// `Boolean`, `String`, `Integer`, `Float` or `Object`, in any case.
    pub fn from_name(name: &str) -> Option<FlagType> {
        [
            FlagType::Boolean,
            FlagType::String,
            FlagType::Integer,
            FlagType::Float,
            FlagType::Object,
        ]
        .into_iter()
        .find(|flag_type| flag_type.name().eq_ignore_ascii_case(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            FlagType::Boolean => "Boolean",
            FlagType::String => "String",
            FlagType::Integer => "Integer",
            FlagType::Float => "Float",
            FlagType::Object => "Object",
        }
    }

    /// Whether a flag's value answers a request of this type.
    pub fn accepts(self, value: &Value) -> bool {
        self.convert(value).is_some()
    }

    /// The error of a request of this type answered by a value of another.
    pub(crate) fn mismatch(self, key: &str, value: &Value) -> EvalError {
        EvalError {
            code: ErrorCode::TypeMismatch,
            message: format!(
                "flag \"{key}\" is not of type {}: it resolved to {value}",
                self.name()
            ),
        }
    }

    /// The value as this type, or `None` when it is of another. Like flagd, an integer
    /// request takes any number and truncates it, and a float request takes integers.
    fn convert(self, value: &Value) -> Option<Value> {
        match (self, value) {
            (FlagType::Boolean, Value::Bool(_))
            | (FlagType::String, Value::String(_))
            | (FlagType::Object, Value::Object(_)) => Some(value.clone()),
            (FlagType::Integer, Value::Number(n)) => Some(match n.as_i64() {
                Some(i) => Value::from(i),
                None => Value::from(n.as_f64()? as i64),
            }),
            (FlagType::Float, Value::Number(n)) => Some(Value::from(n.as_f64()?)),
            _ => None,
        }
    }
}

/// The outcome of a typed request: `value` is always set, to the fallback when the flag
/// could not give one.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedResolution {
    pub value: Value,
    pub variant: Option<String>,
    pub reason: Reason,
    pub error: Option<EvalError>,
    pub metadata: Map<String, Value>,
}

impl FlagSet {
    /// Evaluates a flag for a typed request. The fallback is returned when the flag is
    /// missing (`FLAG_NOT_FOUND`), fails, is a disabled flagd flag (`DISABLED`), has no
    /// variant to serve, or holds a value of another type (`TYPE_MISMATCH`).
    pub fn resolve_typed(
        &self,
        key: &str,
        flag_type: FlagType,
        fallback: Value,
        context: &Context,
    ) -> TypedResolution {
        let resolution = self.evaluate(key, context);
        let metadata = resolution.metadata();
        let fall_back = |reason, error| TypedResolution {
            value: fallback.clone(),
            variant: None,
            reason,
            error,
            metadata: metadata.clone(),
        };
        if resolution.error.is_some() {
            return fall_back(Reason::Error, resolution.error);
        }
        let Some(value) = resolution.value else {
            return fall_back(resolution.reason, None);
        };
        match flag_type.convert(value) {
            Some(value) => TypedResolution {
                value,
                variant: resolution.variant.map(str::to_owned),
                reason: resolution.reason,
                error: None,
                metadata,
            },
            None => fall_back(Reason::Error, Some(flag_type.mismatch(key, value))),
        }
    }
}
