//! Reading an OpenFeature evaluation context.

use serde_json::{Map, Value};

/// An OpenFeature evaluation context: a JSON object whose `targetingKey` is the targeting
/// key.
pub type Context = Map<String, Value>;

/// The context attribute that holds the targeting key.
pub const TARGETING_KEY: &str = "targetingKey";

/// A context from JSON text (a `--ctx-file`, or one line of a JSON Lines file): it must
/// be a JSON object. The error says why not, for the caller to prefix with where.
pub fn parse_context(text: &str) -> Result<Context, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("the context must be a JSON object".to_owned()),
        Err(e) => Err(format!("not JSON ({e})")),
    }
}

/// The lines of a JSON Lines text that are not blank, with their numbers (from 1).
pub fn numbered_lines(text: &str) -> Vec<(usize, &str)> {
    Piece {
        text,
        first_line: 1,
    }
    .lines()
    .collect()
}

/// A run of whole lines of a JSON Lines text: what one task reads.
#[derive(Debug, Clone, Copy)]
pub struct Piece<'t> {
    text: &'t str,
    /// The number of its first line in the whole text (from 1).
    first_line: usize,
}

impl<'t> Piece<'t> {
    /// Its lines that are not blank, with their numbers in the whole text.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &'t str)> + use<'t> {
        let first_line = self.first_line;
        self.text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(move |(index, line)| (first_line + index, line))
    }
}

/// A JSON Lines text cut into pieces of about `bytes` bytes each, at line ends, so that
/// tasks of similar size can read it without a list of its lines.
pub fn pieces(text: &str, bytes: usize) -> Vec<Piece<'_>> {
    let mut pieces = Vec::with_capacity(text.len() / bytes.max(1) + 1);
    let (mut start, mut first_line) = (0, 1);
    while start < text.len() {
        let cut = (start + bytes.max(1)).min(text.len());
        let end =
            memchr::memchr(b'\n', &text.as_bytes()[cut - 1..]).map_or(text.len(), |at| cut + at);
        let piece = &text[start..end];
        pieces.push(Piece {
            text: piece,
            first_line,
        });
        first_line += memchr::memchr_iter(b'\n', piece.as_bytes()).count();
        start = end;
    }
    pieces
}

/// A context attribute as the command line gives it: `k=v` as a string, `k:=JSON` typed.
/// A dotted name (`a.b=v`) is a path for [`insert_path`].
pub fn parse_attribute(text: &str) -> Result<(String, Value), String> {
    let Some(eq) = text.find('=') else {
        return Err(format!("`{text}` is not `k=v` or `k:=JSON`"));
    };
    let (name, value) = (&text[..eq], &text[eq + 1..]);
    let (name, value) = match name.strip_suffix(':') {
        Some(name) => {
            let value = serde_json::from_str(value)
                .map_err(|e| format!("`{name}:={value}`: the value is not JSON ({e})"))?;
            (name, value)
        }
        None => (name, Value::String(value.to_owned())),
    };
    if name.is_empty() {
        return Err(format!("`{text}` has no attribute name"));
    }
    Ok((name.to_owned(), value))
}

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
    fn contexts_are_json_objects() {
        assert_eq!(
            parse_context(r#"{"a": 1}"#).map(Value::Object),
            Ok(json!({"a": 1}))
        );
        assert_eq!(
            parse_context("[1]").unwrap_err(),
            "the context must be a JSON object"
        );
        assert!(parse_context("{").unwrap_err().starts_with("not JSON ("));
        assert_eq!(numbered_lines("{}\n \n{}\n"), [(1, "{}"), (3, "{}")]);
    }

    #[test]
    fn pieces_number_their_lines_as_the_whole_text_does() {
        let text = "{\"a\": 1}\r\n\n  \n{\"b\": 22}\n{}\n\n{\"c\": [1, 2, 3]}";
        for bytes in 1..=text.len() + 1 {
            let pieces = pieces(text, bytes);
            let lines: Vec<(usize, &str)> = pieces.iter().flat_map(Piece::lines).collect();
            assert_eq!(lines, numbered_lines(text), "pieces of {bytes} bytes");
            let whole: String = pieces.iter().map(|piece| piece.text).collect();
            assert_eq!(whole, text);
        }
        assert!(pieces("", 10).is_empty());
    }

    #[test]
    fn attributes_are_strings_unless_typed() {
        assert_eq!(
            parse_attribute("country=SG").unwrap(),
            ("country".into(), json!("SG"))
        );
        assert_eq!(
            parse_attribute("age:=30").unwrap(),
            ("age".into(), json!(30))
        );
        assert_eq!(
            parse_attribute("url=http://x/?a=b").unwrap(),
            ("url".into(), json!("http://x/?a=b"))
        );
        assert_eq!(
            parse_attribute("tags:=[\"a\"]").unwrap(),
            ("tags".into(), json!(["a"]))
        );
        assert!(parse_attribute("age:=thirty").is_err());
        assert!(parse_attribute("=x").is_err());
        assert!(parse_attribute("novalue").is_err());
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
