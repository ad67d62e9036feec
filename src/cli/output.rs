//! Typed output: every command's result is a value. JSON comes from serde, wrapped with
//! `schema` and `as_of`; text comes from the value's one human renderer.

use std::io::Write;

use schemars::JsonSchema;
use serde::Serialize;

use super::{Ctx, Format, terminal};
use flagctl::output::Envelope;

/// A command's result, rendered as text for people; JSON comes from `Serialize`.
pub trait Output: Serialize + JsonSchema {
    /// Writes the result for a terminal (or a pipe) to `out`.
    fn human(&self, out: &mut dyn Write, color: bool) -> std::io::Result<()>;
}

/// Prints `value` on stdout in the requested format (human or json).
pub fn emit<T: Output>(ctx: &Ctx, value: &T) -> anyhow::Result<()> {
    if ctx.format() == Format::Json {
        return json(ctx, value);
    }
    let mut out = terminal::stdout(ctx.color, true);
    value.human(&mut out, ctx.color)?;
    out.flush()?;
    Ok(())
}

/// Prints `value` as one JSON document, in the envelope, on stdout.
pub fn json<T: Serialize + JsonSchema>(ctx: &Ctx, value: &T) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    flagctl::output::write_json(&mut out, &Envelope::new(ctx.today, value))?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
