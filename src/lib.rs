//! flagctl: lifecycle manager for ML feature flags kept as TOML files in git.
//!
//! The library holds the model, loading, checks, evaluation and export. It never prints
//! and never reads the clock: "today" is passed in by the caller.

pub mod checks;
pub mod cleanup;
pub mod compile;
pub mod create;
pub mod deadline;
pub mod diff;
pub mod edit;
pub mod eval;
pub mod export;
pub mod fsio;
pub mod history;
pub mod init;
pub mod lifecycle;
pub mod model;
pub mod output;
pub mod readiness;
pub mod refs;
pub mod remind;
pub mod repo;
pub mod report;
pub mod rules;
pub mod templates;
