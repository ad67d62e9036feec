//! flagd's `sem_ver` comparison. flagd parses with Go's `golang.org/x/mod/semver`, whose
//! rules differ from npm's in ways users see:
//! - a leading `v` or `V` is accepted, and `1` / `1.2` are shorthand for `1.0.0` / `1.2.0`;
//! - numbers in the context are compared by their text (`1.2` → `1.2.0`);
//! - build metadata is ignored;
//! - `~` means "same major and minor" and `^` means "same major", whatever the rest
//!   (so `^1.5.0` matches `1.0.0`, unlike npm).

use std::borrow::Cow;
use std::cmp::Ordering;

use semver::Version;
use serde_json::Value;

use super::js;

/// A `sem_ver` comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SemverOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    /// `~`: same major and minor.
    Tilde,
    /// `^`: same major.
    Caret,
}

impl SemverOp {
    /// The operator written as in a flagd `sem_ver` expression.
    pub(crate) fn from_symbol(symbol: &str) -> Option<SemverOp> {
        Some(match symbol {
            "=" => SemverOp::Eq,
            "!=" => SemverOp::Ne,
            "<" => SemverOp::Lt,
            "<=" => SemverOp::Lte,
            ">" => SemverOp::Gt,
            ">=" => SemverOp::Gte,
            "~" => SemverOp::Tilde,
            "^" => SemverOp::Caret,
            _ => return None,
        })
    }

    fn holds(self, actual: &Version, target: &Version) -> bool {
        let order = actual.cmp_precedence(target);
        match self {
            SemverOp::Eq => order == Ordering::Equal,
            SemverOp::Ne => order != Ordering::Equal,
            SemverOp::Lt => order == Ordering::Less,
            SemverOp::Lte => order != Ordering::Greater,
            SemverOp::Gt => order == Ordering::Greater,
            SemverOp::Gte => order != Ordering::Less,
            SemverOp::Tilde => actual.major == target.major && actual.minor == target.minor,
            SemverOp::Caret => actual.major == target.major,
        }
    }
}

/// Parses a version the way flagd does; numbers count by their text. `None` when the
/// value is not a valid version.
pub(crate) fn parse(value: &Value) -> Option<Version> {
    let text: Cow<'_, str> = match value {
        Value::String(s) => Cow::Borrowed(s),
        Value::Number(n) => Cow::Owned(js::number_text(n)),
        _ => return None,
    };
    let text = text.strip_prefix(['v', 'V']).unwrap_or(&text);
    let shorthand = text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let dots = text.bytes().filter(|&b| b == b'.').count();
    if shorthand && dots < 2 {
        Version::parse(&format!("{text}{}", ".0".repeat(2 - dots))).ok()
    } else {
        Version::parse(text).ok()
    }
}

/// `actual OP target`, or `None` when either side is not a valid version.
pub(crate) fn compare(actual: &Value, op: SemverOp, target: &Value) -> Option<bool> {
    Some(op.holds(&parse(actual)?, &parse(target)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(actual: Value, symbol: &str, target: &str) -> Option<bool> {
        compare(&actual, SemverOp::from_symbol(symbol)?, &json!(target))
    }

    #[test]
    fn accepts_prefix_and_shorthand_like_flagd() {
        assert_eq!(parse(&json!("v1.0.0")), parse(&json!("1.0.0")));
        assert_eq!(parse(&json!("V1.0.0")), parse(&json!("1.0.0")));
        assert_eq!(parse(&json!("1")), parse(&json!("1.0.0")));
        assert_eq!(parse(&json!("1.2")), parse(&json!("1.2.0")));
        assert_eq!(parse(&json!(1.2)), parse(&json!("1.2.0")));
        assert_eq!(parse(&json!(2)), parse(&json!("2.0.0")));
        for invalid in [
            json!("2.0.0.0"),
            json!("not-a-version"),
            json!("01.0.0"),
            json!("1."),
            json!(""),
            json!(true),
        ] {
            assert_eq!(parse(&invalid), None, "{invalid}");
        }
    }

    #[test]
    fn ordering_ignores_build_metadata_and_ranks_prereleases_lower() {
        assert_eq!(check(json!("1.0.0+other"), "=", "1.0.0+build"), Some(true));
        assert_eq!(check(json!("2.0.0-alpha"), "<", "2.0.0"), Some(true));
        assert_eq!(check(json!("2.1.0"), ">", "2.0.0"), Some(true));
        assert_eq!(check(json!("2.0.0"), ">=", "2.0.0"), Some(true));
        assert_eq!(check(json!("2.0.0"), "<=", "1.9.9"), Some(false));
        assert_eq!(check(json!("2.0.0"), "!=", "2.0.1"), Some(true));
        assert_eq!(check(json!("bad"), "=", "1.0.0"), None);
    }

    #[test]
    fn tilde_and_caret_compare_only_leading_parts() {
        assert_eq!(check(json!("3.0.1"), "~", "3.0.0"), Some(true));
        assert_eq!(check(json!("3.1.0"), "~", "3.0.0"), Some(false));
        assert_eq!(check(json!("3.1.0"), "^", "3.0.0"), Some(true));
        assert_eq!(check(json!("3.0.0"), "^", "3.5.0"), Some(true));
        assert_eq!(check(json!("0.2.0"), "^", "0.1.0"), Some(true));
        assert_eq!(check(json!("4.0.0"), "^", "3.0.0"), Some(false));
        assert_eq!(SemverOp::from_symbol("==="), None);
    }
}
