//! The data model: flag files and `flagctl.toml`, parsed with spans.

pub mod condition;
pub mod config;
pub mod flag;
pub mod json_schema;
pub mod names;
mod parse;
mod schema;
pub mod source;

pub use config::Config;
pub use flag::Flag;
pub use parse::Problem;
pub use source::SourceFile;
