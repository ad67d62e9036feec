//! ns per evaluation. The target: a native flag whose second rule (a segment condition)
//! leads to a rollout evaluates in under 150 ns.
//!
//! Run with `cargo bench --bench eval`.

// Benchmarks print their measurements and time them with the clock.
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use divan::black_box;
use flagctl::eval::{Action, Context, Flag, FlagSet, Native, Rollout, Rule, State, Targeting};
use flagctl::model::condition::{Condition, Op};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

fn context(value: Value) -> Context {
    value.as_object().cloned().unwrap_or_default()
}

/// The README's example flag: a QA rule, then 10% of the `sg-users` segment on the candidate.
fn ranker() -> FlagSet {
    let condition = |attr: &str, op, value| Condition {
        attr: attr.to_owned(),
        op,
        value,
    };
    let flag = Flag {
        key: "ranker-v2".to_owned(),
        state: State::Enabled,
        variants: [
            ("baseline", json!({"model": "ranker", "version": "1.4.0"})),
            ("candidate", json!({"model": "ranker", "version": "2.0.0"})),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect(),
        default_variant: Some("baseline".to_owned()),
        metadata: Default::default(),
        targeting: Targeting::Native(Native {
            rules: vec![
                Rule {
                    name: "qa-accounts".to_owned(),
                    conditions: vec![condition("email", Op::EndsWith, json!("@example.com"))],
                    action: Action::Serve("candidate".to_owned()),
                },
                Rule {
                    name: "sg-10pct".to_owned(),
                    conditions: vec![condition("country", Op::In, json!(["SG"]))],
                    action: Action::Rollout(Rollout {
                        bucket_by: None,
                        entries: vec![("candidate".to_owned(), 10), ("baseline".to_owned(), 90)],
                    }),
                },
            ],
            ..Native::default()
        }),
    };
    let mut set = FlagSet::new();
    set.insert(flag);
    set
}

#[divan::bench]
fn native_segment_two_rules_rollout(bencher: divan::Bencher) {
    let set = ranker();
    let ctx = context(json!({
        "targetingKey": "5c3d8535-f81a-4478-a6d3-afaa4d51199e",
        "email": "ann@shop.sg",
        "country": "SG",
        "plan": "pro",
    }));
    assert!(
        set.evaluate("ranker-v2", &ctx).bucket.is_some(),
        "the rollout must decide"
    );
    bencher.bench_local(|| {
        black_box(&set)
            .evaluate(black_box("ranker-v2"), black_box(&ctx))
            .variant
    });
}

#[divan::bench]
fn flagd_fractional(bencher: divan::Bencher) {
    let set = FlagSet::from_flagd_json(
        r#"{"flags": {"ranker-v2": {"state": "ENABLED", "defaultVariant": "baseline",
            "variants": {"baseline": "1.4.0", "candidate": "2.0.0"},
            "targeting": {"if": [
              {"ends_with": [{"var": "email"}, "@example.com"]}, "candidate",
              {"in": [{"var": "country"}, ["SG"]]},
              {"fractional": [["candidate", 10], ["baseline", 90]]},
              null]}}}}"#,
    )
    .expect("valid flag definition");
    let ctx = context(json!({
        "targetingKey": "5c3d8535-f81a-4478-a6d3-afaa4d51199e",
        "email": "ann@shop.sg",
        "country": "SG",
    }));
    bencher.bench_local(|| {
        black_box(&set)
            .evaluate(black_box("ranker-v2"), black_box(&ctx))
            .variant
    });
}
