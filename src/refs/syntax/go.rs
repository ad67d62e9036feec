//! Go (tree-sitter-go): `call_expression`s through selectors, `"…"` and raw `` `…` `` strings.

use ast_grep_language::SupportLang;

use super::{BASE, C_ESCAPES, Escapes, Grammar, NO_ESCAPES, Node, between, text, unescape};

pub(super) static GRAMMAR: Grammar = Grammar {
    lang: SupportLang::Go,
    strings: &["interpreted_string_literal", "raw_string_literal"],
    members: &["selector_expression"],
    names: &["identifier", "field_identifier"],
    nulls: &["nil"],
    integers: &["int_literal"],
    floats: &["float_literal"],
    objects: &["composite_literal"],
    leading_zero_octal: true,
    member_fields: ("operand", "field"),
    string,
    ..BASE
};

pub(super) static ESCAPES: Escapes = Escapes {
    simple: C_ESCAPES,
    octal: 3,
    octal_exact: true,
    hex: true,
    bytes: true,
    unicode4: true,
    unicode8: true,
    ..NO_ESCAPES
};

fn string(node: &Node<'_>, src: &str) -> Option<Option<String>> {
    let body = between(text(src, node), 1, 1);
    match node.kind().as_ref() {
        "interpreted_string_literal" => Some(body.and_then(|body| unescape(body, &ESCAPES))),
        // Carriage returns are discarded from raw strings.
        "raw_string_literal" => Some(body.map(|body| body.replace('\r', ""))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assert_checkout_call, assert_comments_and_strings, only_call, read_with,
    };
    use super::super::*;
    use serde_json::json;

    const GO: Language = Language::Go;

    fn in_func(body: &str) -> String {
        format!("package main\n\nfunc f() {{\n\t{body}\n}}\n")
    }

    #[test]
    fn comments_and_strings() {
        let source = in_func("// a\n\tx := \"s\" + `raw` /* b */\n\tr := 'c'");
        assert_comments_and_strings(GO, &source, &["// a", "/* b */"], &["\"s\"", "`raw`"]);
    }

    #[test]
    fn client_calls() {
        let source = in_func(
            "v, err := client.BooleanValue(ctx, \"new-checkout\", false, openfeature.EvaluationContext{})",
        );
        let span =
            "client.BooleanValue(ctx, \"new-checkout\", false, openfeature.EvaluationContext{})";
        assert_checkout_call(GO, &source, "BooleanValue", span, Some(json!(false)));

        let call = only_call(
            GO,
            &in_func("d, _ := c.IntValueDetails(ctx, `raw-key`, -1, evalCtx)"),
        );
        assert_eq!(
            (call.key.as_deref(), call.default),
            (Some("raw-key"), Some(json!(-1)))
        );
        assert_eq!(call.value_type, Some(ValueType::Integer));
        let call = only_call(
            GO,
            &in_func("x := c.Float(ctx, \"f\", 0.5, evalCtx, opts...)"),
        );
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Float), Some(json!(0.5)))
        );
        let call = only_call(GO, &in_func("x := c.ObjectValue(ctx, \"o\", nil, evalCtx)"));
        assert_eq!(
            (call.value_type, call.default),
            (Some(ValueType::Object), Some(json!(null)))
        );
        let call = only_call(
            GO,
            &in_func("x := c.String(ctx, \"s\\t\\u00e9\\303\\251\", \"d\", evalCtx)"),
        );
        assert_eq!(call.key.as_deref(), Some("s\téé"));
        let call = only_call(
            GO,
            &in_func("x := c.StringValue(ctx, prefix+\"s\", \"d\", evalCtx)"),
        );
        assert_eq!(call.key, None);
        let call = only_call(GO, &in_func("x := c.IntValue(ctx, \"i\", 010, evalCtx)"));
        assert_eq!(call.default, Some(json!(8)));
    }

    #[test]
    fn common_names_need_the_sdk_arity() {
        let source =
            in_func("s := v.String()\n\tb := strconv.Int(x)\n\tc.Boolean(ctx, \"k\", true)");
        assert!(read_with(GO, &source, &[]).calls.is_empty());
    }

    #[test]
    fn generated_accessors() {
        let source = in_func(
            "on, _ := flags.EnableFeatureA.Value(ctx, evalCtx)\n\td, _ := EnableFeatureA.ValueWithDetails(ctx, evalCtx)\n\tEnableFeatureA.Other(ctx, evalCtx)\n\tEnableFeatureA(ctx)",
        );
        let syntax = read_with(GO, &source, &["enable-feature-a"]);
        assert_eq!(syntax.calls.len(), 2, "{:#?}", syntax.calls);
        for call in &syntax.calls {
            assert!(call.accessor);
            assert_eq!(call.method, "EnableFeatureA");
            assert_eq!(call.key.as_deref(), Some("enable-feature-a"));
            assert_eq!(&source[call.key_span.clone()], "EnableFeatureA");
        }
        assert_eq!(
            &source[syntax.calls[0].span.clone()],
            "flags.EnableFeatureA.Value(ctx, evalCtx)"
        );
    }
}
