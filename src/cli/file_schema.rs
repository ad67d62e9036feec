//! `flagctl schema flag|config`: the JSON Schema of a flag file or of `flagctl.toml`, for
//! editors (Taplo, Even Better TOML). The same text is checked in under `schema/`.

use std::io::Write;
use std::process::ExitCode;

use super::{Ctx, Format, Outcome, require_format, terminal};
use flagctl::model::json_schema;

#[derive(clap::Args)]
pub struct Args {
    /// Which file format
    #[arg(value_enum)]
    file: File,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum File {
    /// A flag file, flags/<service>/<key>.toml (schema/flag.schema.json)
    Flag,
    /// flagctl.toml (schema/flagctl-toml.schema.json)
    Config,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "schema", &[Format::Human, Format::Json])?;
    let schema = match args.file {
        File::Flag => json_schema::flag(),
        File::Config => json_schema::config(),
    };
    let mut out = terminal::stdout(false, true);
    serde_json::to_writer_pretty(&mut out, &schema)?;
    writeln!(out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
