//! Reading an OpenFeature evaluation context.

use serde_json::{Map, Value};

/// An OpenFeature evaluation context: a JSON object whose `targetingKey` is the targeting
/// key.
pub type Context = Map<String, Value>;

/// The context attribute that holds the targeting key.
pub const TARGETING_KEY: &str = "targetingKey";

/// The value at a dotted path (`user.email`), read as JSONLogic's `var` reads it, so a
/// native condition and its exported JSONLogic see the same attribute. Array elements are
/// addressed by index (`items.0`).
pub(crate) fn lookup<'a>(context: &'a Context, path: &str) -> Option<&'a Value> {
    let mut segments = path.split('.');
    let first = member(context, segments.next()?)?;
    segments.try_fold(first, child)
}

/// Sets the value at a dotted path, creating the objects on the way (replacing any
/// non-object in between), so that [`lookup`] and JSONLogic's `var` find it there.
pub fn insert_path(context: &mut Context, path: &str, value: Value) {
    let mut object = context;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            object.insert(segment.to_owned(), value);
            return;
        }
        let slot = object
            .entry(segment.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        object = slot.as_object_mut().expect("made an object above");
    }
}

/// One step of a path: an object's member or an array's element.
pub(crate) fn child<'a>(value: &'a Value, segment: &str) -> Option<&'a Value> {
    match value {
        Value::Object(members) => member(members, segment),
        Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
        _ => None,
    }
}

/// A member of a JSON object. A small object (most contexts) is scanned: comparing a
/// few keys is several times faster than the SipHash that serde_json's map hashes with.
pub(crate) fn member<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    const SCAN_UP_TO: usize = 16;
    if object.len() <= SCAN_UP_TO {
        object
            .iter()
            .find_map(|(name, value)| (name == key).then_some(value))
    } else {
        object.get(key)
    }
}

/// The targeting key, when it is a non-empty string. flagd treats an empty targeting key
/// as none (open-feature/flagd#1948).
pub(crate) fn targeting_key(context: &Context) -> Option<&str> {
    member(context, TARGETING_KEY)
        .and_then(Value::as_str)
        .filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context(value: Value) -> Context {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn lookup_follows_dotted_paths() {
        let ctx = context(json!({"user": {"name": "ann", "tags": ["a", "b"]}, "plan": "pro"}));
        assert_eq!(lookup(&ctx, "plan"), Some(&json!("pro")));
        assert_eq!(lookup(&ctx, "user.name"), Some(&json!("ann")));
        assert_eq!(lookup(&ctx, "user.tags.1"), Some(&json!("b")));
        assert_eq!(lookup(&ctx, "user.missing"), None);
        assert_eq!(lookup(&ctx, "plan.length"), None);
        assert_eq!(lookup(&ctx, "nothing"), None);
    }

    #[test]
    fn insert_path_builds_nested_objects() {
        let mut ctx = context(json!({"user": "flat", "plan": "pro"}));
        insert_path(&mut ctx, "user.email", json!("a@b.c"));
        insert_path(&mut ctx, "user.age", json!(30));
        insert_path(&mut ctx, "plan", json!("free"));
        assert_eq!(
            Value::Object(ctx.clone()),
            json!({"user": {"email": "a@b.c", "age": 30}, "plan": "free"})
        );
        assert_eq!(lookup(&ctx, "user.age"), Some(&json!(30)));
    }

    #[test]
    fn empty_targeting_key_counts_as_none() {
        assert_eq!(
            targeting_key(&context(json!({"targetingKey": "u1"}))),
            Some("u1")
        );
        assert_eq!(targeting_key(&context(json!({"targetingKey": ""}))), None);
        assert_eq!(targeting_key(&context(json!({"targetingKey": 5}))), None);
        assert_eq!(targeting_key(&context(json!({}))), None);
    }
}
