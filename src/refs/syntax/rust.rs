//! Rust (tree-sitter-rust): method `call_expression`s (also turbofished), `"…"` and raw
//! `r#"…"#` strings, also inside macro token trees.

use ast_grep_language::SupportLang;

use super::{BASE, Escapes, Grammar, NO_ESCAPES, Node, text, unescape};

pub(super) static GRAMMAR: Grammar = Grammar {
    lang: SupportLang::Rust,
    comments: &["line_comment", "block_comment"],
    strings: &["string_literal", "raw_string_literal"],
    members: &["field_expression"],
    names: &["identifier", "field_identifier"],
    booleans: &["boolean_literal"],
    integers: &["integer_literal"],
    floats: &["float_literal"],
    member_fields: ("value", "field"),
    string,
    ..BASE
};

pub(super) static ESCAPES: Escapes = Escapes {
    simple: &[
        (b'n', '\n'),
        (b'r', '\r'),
        (b't', '\t'),
        (b'\\', '\\'),
        (b'0', '\0'),
        (b'\'', '\''),
        (b'"', '"'),
    ],
    hex: true,
    unicode_braced: true,
    continuation: true,
    continuation_trims: true,
    ..NO_ESCAPES
};

/// `"…"`, `b"…"`, `c"…"` and their raw forms `r#"…"#`: the body is between the first and the
/// last double quote.
fn string(node: &Node<'_>, src: &str) -> Option<Option<String>> {
    let raw = match node.kind().as_ref() {
        "string_literal" => false,
        "raw_string_literal" => true,
        _ => return None,
    };
    let source = text(src, node);
    let body = match (source.find('"'), source.rfind('"')) {
        (Some(open), Some(close)) if open < close => &source[open + 1..close],
        _ => return Some(None),
    };
    Some(if raw {
        Some(body.to_owned())
    } else {
        unescape(body, &ESCAPES)
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assert_checkout_call, assert_comments_and_strings, only_call, read_with,
    };
    use super::super::*;

    const RS: Language = Language::Rust;

    #[test]
    fn comments_and_strings() {
        let source = "// a\n/// doc\nfn f() { let s = \"q\"; /* b /* nested */ */ let r = r#\"raw\"#; println!(\"{}\", \"m\"); let c = 'c'; }\n";
        let comments = ["// a", "/// doc\n", "/* b /* nested */ */"];
        let strings = ["\"q\"", "r#\"raw\"#", "\"{}\"", "\"m\""];
        assert_comments_and_strings(RS, source, &comments, &strings);
    }

    #[test]
    fn client_calls() {
        let source =
            "async fn f() { let on = client.get_bool_value(\"new-checkout\", None, None).await; }";
        let span = "client.get_bool_value(\"new-checkout\", None, None)";
        assert_checkout_call(RS, source, "get_bool_value", span, None);
        assert_eq!(only_call(RS, source).default_text, None);

        for (source, key, value_type) in [
            (
                "fn f() { c.get_struct_value::<Cfg>(r#\"raw\"key\"#, Some(&ctx), None); }",
                Some("raw\"key"),
                ValueType::Object,
            ),
            (
                "fn f() { c.get_int_details(\"i\\u{e9}\\x41\", None, None); }",
                Some("iéA"),
                ValueType::Integer,
            ),
            (
                "fn f() { c.get_float_value(\"a\\\n    b\", None, None); }",
                Some("ab"),
                ValueType::Float,
            ),
            (
                "fn f() { c.get_string_value(&format!(\"k-{}\", n), None, None); }",
                None,
                ValueType::String,
            ),
            (
                "fn f() { c.get_string_value(KEY, None, None); }",
                None,
                ValueType::String,
            ),
        ] {
            let call = only_call(RS, source);
            assert_eq!(
                (call.key.as_deref(), call.value_type),
                (key, Some(value_type)),
                "{source}"
            );
        }
    }

    #[test]
    fn no_accessors() {
        let syntax = read_with(
            RS,
            "fn f() { flags.enable_feature_a(); EnableFeatureA.Value(a, b); }",
            &["enable-feature-a"],
        );
        assert!(syntax.calls.is_empty());
    }
}
