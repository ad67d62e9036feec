//! Typed output: every command's result is a value. JSON comes from serde, wrapped with
//! `schema` and `as_of`; text comes from the value's one human renderer.

use std::io::Write;

use serde::Serialize;

use super::{Ctx, Format};

/// The version of every JSON document flagctl prints.
pub const SCHEMA: u32 = 1;

/// A command's result, rendered as text for people; JSON comes from `Serialize`.
pub trait Output: Serialize {
    /// Writes the result for a terminal (or a pipe) to `out`.
    fn human(&self, out: &mut dyn Write, color: bool) -> std::io::Result<()>;
}

/// `{"schema": 1, "as_of": DATE, ...value}`: what `--format json` prints.
#[derive(Serialize)]
pub struct Envelope<'a, T: Serialize> {
    pub schema: u32,
    pub as_of: chrono::NaiveDate,
    #[serde(flatten)]
    pub value: &'a T,
}

/// Prints `value` on stdout in the requested format (human or json).
pub fn emit<T: Output>(ctx: &Ctx, value: &T) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match ctx.format() {
        Format::Json => {
            let envelope = Envelope {
                schema: SCHEMA,
                as_of: ctx.today,
                value,
            };
            serde_json::to_writer_pretty(&mut out, &envelope)?;
            writeln!(out)?;
        }
        _ => value.human(&mut out, ctx.color)?,
    }
    out.flush()?;
    Ok(())
}
