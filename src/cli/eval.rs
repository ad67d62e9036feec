//! `flagctl eval`: offline evaluation of one flag or every flag, for one context or for
//! each line of a JSON Lines file, from the repository (work tree, `--rev` or `--at`) or
//! from a flagd flag-definition file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::output::{Output, emit};
use super::terminal::{self, tell};
use super::{Ctx, Format, Outcome, render, require_format};
use flagctl::eval::{
    ConditionCheck, Context, ContextReader, EvalError, FlagSet, FlagType, Fractional, Piece, Reads,
    Reason, Resolution, State, Step, TARGETING_KEY, insert_path, parse_context, pieces,
};
use flagctl::repo::{Repo, Revision};

#[derive(clap::Args)]
pub struct Args {
    /// The flag key
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    key: Option<String>,
    /// Evaluate every active flag, sorted by key
    #[arg(long)]
    all: bool,
    /// A context attribute: `k=v` (a string) or `k:=JSON` (typed); `a.b=v` nests (repeatable)
    #[arg(long = "ctx", value_name = "K=V|K:=JSON", value_parser = flagctl::eval::parse_attribute)]
    ctx: Vec<(String, Value)>,
    /// Start the context from this JSON object (an OpenFeature evaluation context)
    #[arg(long, value_name = "FILE")]
    ctx_file: Option<PathBuf>,
    /// The targeting key (the context's `targetingKey`)
    #[arg(long, value_name = "ID")]
    targeting_key: Option<String>,
    /// Evaluate each line's context (one JSON object per line, over the --ctx options), one
    /// result per line and flag
    #[arg(long, value_name = "FILE", conflicts_with = "explain")]
    contexts: Option<PathBuf>,
    /// Show every step: state, prerequisites, layer bucket, each rule tried, the rollout
    #[arg(long)]
    explain: bool,
    /// Evaluate this flagd flag-definition file instead of the repository
    #[arg(long, value_name = "FILE", conflicts_with = "at")]
    flagd: Option<PathBuf>,
    /// The bucketing of flagd's `fractional`: v2 or v3 (default: `[export] fractional` of
    /// flagctl.toml; for --flagd, v2, the current flagd release's)
    #[arg(long, value_name = "VERSION", value_parser = parse_fractional)]
    fractional: Option<Fractional>,
    /// Ask for a value of this type, as an SDK's typed call does: boolean, string, integer,
    /// float or object; a flag of another type resolves as TYPE_MISMATCH
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type)]
    flag_type: Option<FlagType>,
    /// Evaluate the repository as of the last first-parent commit at or before TIME (RFC
    /// 3339, or YYYY-MM-DD for the end of that day, UTC), walking back from --rev or HEAD
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<FixedOffset>>,
}

fn parse_fractional(text: &str) -> Result<Fractional, String> {
    Fractional::from_name(text)
        .ok_or_else(|| format!("`{text}` is not a fractional version; use v2 or v3"))
}

fn parse_type(text: &str) -> Result<FlagType, String> {
    FlagType::from_name(text).ok_or_else(|| {
        format!("`{text}` is not a flag type; use boolean, string, integer, float or object")
    })
}

/// RFC 3339, or a date standing for the last second of that day in UTC.
fn parse_time(text: &str) -> Result<DateTime<FixedOffset>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(23, 59, 59))
        .map(|time| time.and_utc().fixed_offset())
        .ok_or_else(|| {
            format!(
                "`{text}` is not a time; use RFC 3339 (2026-11-20T12:00:00Z) or YYYY-MM-DD (the end of that day, UTC)"
            )
        })
}

/// Where the flags come from.
pub struct Source {
    pub set: FlagSet,
    /// The repository, unless a flagd file was given.
    repo: Option<Repo>,
    /// The text of the flagd file, when one was given.
    flagd_text: Option<String>,
}

impl Source {
    /// The commit the flags were read from (`--rev`, `--at`), if any.
    fn revision(&self) -> Option<&Revision> {
        self.repo.as_ref()?.revision.as_ref()
    }

    /// The flags of a flagd file or of the repository, bucketed with `fractional` when it
    /// is given (else v2 for a flagd file, `[export] fractional` for the repository).
    pub fn load(
        ctx: &Ctx,
        flagd: Option<&Path>,
        at: Option<DateTime<FixedOffset>>,
        fractional: Option<Fractional>,
    ) -> anyhow::Result<Source> {
        let mut source = match (flagd, at) {
            (Some(path), _) => {
                if let Some(rev) = &ctx.global.rev {
                    bail!("--flagd evaluates a file; --rev {rev} does not apply to it");
                }
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let set = FlagSet::from_flagd_json(&text).with_context(|| {
                    format!("{} is not a flagd flag definition", path.display())
                })?;
                Source {
                    set,
                    repo: None,
                    flagd_text: Some(text),
                }
            }
            (None, at) => {
                let from = match at {
                    Some(time) => flagctl::repo::Source::At {
                        time,
                        from: ctx.global.rev.clone(),
                    },
                    None => ctx.source(),
                };
                let repo = Repo::open(&ctx.root()?, &from)?;
                Source {
                    set: flagctl::compile::flag_set(&repo),
                    repo: Some(repo),
                    flagd_text: None,
                }
            }
        };
        // What `$flagd.timestamp` reads: --as-of's midnight (UTC), else now.
        source.set.set_timestamp(ctx.now.timestamp());
        if let Some(fractional) = fractional {
            source.set.set_fractional(fractional);
        }
        Ok(source)
    }

    /// The keys to evaluate: the one asked for, which must exist, or all, sorted.
    pub fn keys(&self, key: Option<&str>) -> anyhow::Result<Vec<String>> {
        let Some(key) = key else {
            let mut keys: Vec<String> = self.set.flags().map(|f| f.key.clone()).collect();
            keys.sort_unstable();
            return Ok(keys);
        };
        match self.why_missing(key) {
            Some(why) => bail!("{why}"),
            None => Ok(vec![key.to_owned()]),
        }
    }

    /// Why `key` is no flag that can be evaluated, or `None` when it is one.
    fn why_missing(&self, key: &str) -> Option<String> {
        if self.set.get(key).is_some() {
            return None;
        }
        if let Some(file) = self.repo.as_ref().and_then(|repo| repo.find(key)) {
            if file.archived {
                return Some(format!(
                    "flag `{key}` is archived ({}); archived flags are not served",
                    file.source.path
                ));
            }
            return Some(format!(
                "flag `{key}` ({}) does not fit the schema, so it cannot be evaluated; `flagctl validate` says why",
                file.source.path
            ));
        }
        let near =
            flagctl::model::names::did_you_mean(key, self.set.flags().map(|f| f.key.as_str()))
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
        Some(format!("no flag `{key}`{near}"))
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(ctx, "eval", &[Format::Human, Format::Json])?;
    let base = base_context(&args)?;
    let source = Source::load(ctx, args.flagd.as_deref(), args.at, args.fractional)?;
    if let (Some(path), Some(text)) = (&args.flagd, &source.flagd_text) {
        super::validate::warn_unportable(&path.display().to_string(), text);
    }
    // A key that is no flag resolves as FLAG_NOT_FOUND, as flagd answers it; why it is
    // none goes to stderr, and the exit code is 1.
    let (keys, status) = match args.key.as_deref() {
        Some(key) => match source.why_missing(key) {
            Some(why) => {
                tell!("error: {why}");
                (vec![key.to_owned()], ExitCode::from(1))
            }
            None => (vec![key.to_owned()], ExitCode::SUCCESS),
        },
        None => (source.keys(None)?, ExitCode::SUCCESS),
    };
    let evaluate = |key: &str, context: &Context| match args.flag_type {
        Some(flag_type) => source.set.evaluate_as(key, context, flag_type),
        None => source.set.evaluate(key, context),
    };
    if let Some(path) = &args.contexts {
        let text = read_lines_file(path)?;
        let pieces = pieces(&text, PIECE_BYTES);
        // Every line is checked before anything is printed: a bad line stops the command
        // with nothing on stdout, naming the first bad line.
        let nothing = Reads::Members(Vec::new());
        let first_bad = pieces
            .par_iter()
            .map_init(
                || ContextReader::new(&nothing),
                |reader, piece| {
                    piece
                        .lines()
                        .find_map(|(number, line)| context_line(path, number, line, reader).err())
                },
            )
            .find_map_first(|error| error);
        if let Some(error) = first_bad {
            return Err(error);
        }
        let reads = Reads::of(&source.set, keys.iter().map(String::as_str));
        evaluate_lines(ctx, &evaluate, &keys, &base, (path, &pieces), &reads)?;
        return Ok(status);
    }
    let mut evaluations: Vec<Evaluation<'_>> = keys
        .iter()
        .map(|key| {
            let (resolution, steps) = if args.explain {
                let (resolution, steps) = source.set.explain(key, &base);
                let resolution = match args.flag_type {
                    Some(flag_type) => source.set.evaluate_as(key, &base, flag_type),
                    None => resolution,
                };
                (resolution, Some(steps))
            } else {
                (evaluate(key, &base), None)
            };
            Evaluation {
                flag: key,
                resolution,
                steps,
            }
        })
        .collect();
    let commit = source.revision().map(Commit);
    if args.all {
        emit(
            ctx,
            &EvalAll {
                commit,
                flags: evaluations,
            },
        )?;
    } else {
        let evaluation = evaluations.pop().expect("one key");
        emit(ctx, &EvalOne { evaluation, commit })?;
    }
    Ok(status)
}

/// One flag's evaluation, as `eval` reports it.
#[derive(Serialize, JsonSchema)]
pub struct Evaluation<'f> {
    /// The flag key.
    flag: &'f str,
    #[serde(flatten)]
    resolution: Resolution<'f>,
    /// Every step the evaluation took (`--explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<Step>>,
}

/// The commit the flags were read from (`--rev`, `--at`); its full id in JSON.
pub struct Commit<'r>(&'r Revision);

impl Serialize for Commit<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.id)
    }
}

impl JsonSchema for Commit<'_> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Commit".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The full id of the commit the flags were read from (--rev, --at).",
            "type": "string"
        })
    }
}

impl Commit<'_> {
    fn write_line(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let revision = self.0;
        writeln!(
            out,
            "as of commit {} ({}): {}",
            &revision.id[..revision.id.len().min(10)],
            revision.time.format("%Y-%m-%d %H:%M:%S %:z"),
            revision.summary
        )
    }
}

/// `eval KEY`: one flag.
#[derive(Serialize, JsonSchema)]
pub struct EvalOne<'f> {
    #[serde(flatten)]
    evaluation: Evaluation<'f>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<Commit<'f>>,
}

impl Output for EvalOne<'_> {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        if let Some(commit) = &self.commit {
            commit.write_line(out)?;
        }
        self.evaluation.human(out)
    }
}

/// `eval --all`: every active flag, sorted by key.
#[derive(Serialize, JsonSchema)]
pub struct EvalAll<'f> {
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<Commit<'f>>,
    flags: Vec<Evaluation<'f>>,
}

impl Output for EvalAll<'_> {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        if let Some(commit) = &self.commit {
            commit.write_line(out)?;
        }
        let explained = self.flags.iter().any(|e| e.steps.is_some());
        if explained {
            for (index, evaluation) in self.flags.iter().enumerate() {
                if index > 0 {
                    writeln!(out)?;
                }
                evaluation.human(out)?;
            }
            return Ok(());
        }
        let mut table = render::table(&["FLAG", "VARIANT", "REASON", "RULE", "VALUE"]);
        for Evaluation {
            flag, resolution, ..
        } in &self.flags
        {
            table.add_row(vec![
                (*flag).to_owned(),
                resolution.variant.unwrap_or("-").to_owned(),
                reason_text(resolution),
                resolution.rule.unwrap_or("").to_owned(),
                resolution.value.map(Value::to_string).unwrap_or_default(),
            ]);
        }
        render::write_table(out, &table)
    }
}

/// One evaluation of `eval --contexts --format json`: one JSON line.
#[derive(Serialize, JsonSchema)]
pub struct EvalLine<'f> {
    /// The line of the contexts file, counted from 1.
    line: usize,
    flag: &'f str,
    variant: Option<&'f str>,
    value: Option<&'f Value>,
    reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<EvalError>,
}

/// The table of `eval --contexts` for people: one row per line and flag.
struct LinesTable(comfy_table::Table);

impl LinesTable {
    fn new() -> LinesTable {
        LinesTable(render::table(&[
            "LINE", "FLAG", "VARIANT", "VALUE", "REASON", "RULE",
        ]))
    }

    fn row(line: usize, flag: &str, resolution: &Resolution<'_>) -> Vec<String> {
        vec![
            line.to_string(),
            flag.to_owned(),
            resolution.variant.unwrap_or("-").to_owned(),
            resolution.value.map(Value::to_string).unwrap_or_default(),
            reason_text(resolution),
            resolution.rule.unwrap_or("").to_owned(),
        ]
    }

    /// Values are cut first, then keys and rule names.
    fn write(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        use render::Give::{Cut, Keep};
        render::fit(&mut self.0, &[Keep, Cut(20), Keep, Cut(10), Keep, Cut(10)]);
        render::write_table(out, &self.0)
    }
}

/// The context of the command line: --ctx-file, then each --ctx, then --targeting-key.
fn base_context(args: &Args) -> anyhow::Result<Context> {
    let mut context = match &args.ctx_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            parse_context(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Context::new(),
    };
    for (name, value) in &args.ctx {
        insert_path(&mut context, name, value.clone());
    }
    if let Some(key) = &args.targeting_key {
        context.insert(TARGETING_KEY.into(), Value::String(key.clone()));
    }
    Ok(context)
}

/// The text of a JSON Lines file of contexts.
pub fn read_lines_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads one line of a JSON Lines file of contexts; a bad line is the error, naming the
/// file and the line's number.
pub fn context_line<'c>(
    path: &Path,
    number: usize,
    line: &str,
    reader: &'c mut ContextReader,
) -> anyhow::Result<&'c Context> {
    reader
        .read(line)
        .map_err(|e| anyhow::anyhow!("{}:{number}: {e}", path.display()))
}

/// The bytes of a contexts file one task reads: enough lines to amortise a task, few
/// enough to share the work between cores.
pub const PIECE_BYTES: usize = 64 << 10;

/// Tasks whose output is held before it is written in order: bounds the memory.
const TASKS_IN_FLIGHT: usize = 32;

/// One result per line and flag: JSON Lines (each line as it is, without the envelope:
/// a stream of records), or an aligned table for people. Lines are evaluated on every
/// core, a batch at a time, and their results written in the order of the file.
fn evaluate_lines<'f>(
    ctx: &Ctx,
    evaluate: &(dyn Fn(&str, &Context) -> Resolution<'f> + Sync),
    keys: &[String],
    base: &Context,
    (path, pieces): (&Path, &[Piece]),
    reads: &Reads,
) -> anyhow::Result<()> {
    let mut out = terminal::stdout(false, true);
    let json = ctx.format() == Format::Json;
    let mut table = (!json).then(LinesTable::new);
    // What one task writes: JSON text, or the rows of the table.
    // Buffers of text written, for the tasks that follow: fresh memory for each would
    // have the system zero its pages again, for every piece of the file.
    let spare: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    // What one task does: its lines' results as JSON text, or as rows of the table.
    let task = |(reader, merged, tails): &mut (ContextReader, Context, Tails<'f>),
                piece: &Piece| {
        let mut text = spare.lock().ok().and_then(|mut spare| spare.pop());
        let (mut text, mut rows) = (text.take().unwrap_or_default(), Vec::new());
        for (number, line) in piece.lines() {
            let mut context = context_line(path, number, line, reader)?;
            if !base.is_empty() {
                merged.clone_from(base);
                merged.extend(reader.present().map(|(k, v)| (k.clone(), v.clone())));
                context = &*merged;
            }
            for (index, key) in keys.iter().enumerate() {
                let resolution = evaluate(key, context);
                if json {
                    tails.write(&mut text, number, index, key, resolution)?;
                } else {
                    rows.push(LinesTable::row(number, key, &resolution));
                }
            }
        }
        anyhow::Ok((text, rows))
    };
    for batch in pieces.chunks(TASKS_IN_FLIGHT) {
        let done: Vec<(Vec<u8>, Vec<Vec<String>>)> = batch
            .par_iter()
            .map_init(
                || {
                    let tails = Tails(keys.iter().map(|_| Vec::new()).collect());
                    (ContextReader::new(reads), Context::new(), tails)
                },
                task,
            )
            .collect::<anyhow::Result<_>>()?;
        for (mut text, rows) in done {
            out.write_all(&text)?;
            text.clear();
            if let Ok(mut spare) = spare.lock() {
                spare.push(text);
            }
            if let Some(table) = &mut table {
                for row in rows {
                    table.0.add_row(row);
                }
            }
        }
    }
    if let Some(table) = table {
        table.write(&mut out)?;
    }
    out.flush()?;
    Ok(())
}

/// Per flag, the JSON of an [`EvalLine`] after its line number, for each outcome met so
/// far: lines of many contexts repeat a few outcomes, and copying one beats serialising
/// it again. An outcome is its variant and value, compared by address (both are the flag
/// set's own), and its reason; a failed evaluation is serialised each time.
struct Tails<'f>(Vec<Vec<Tail<'f>>>);

struct Tail<'f> {
    variant: Option<&'f str>,
    value: Option<&'f Value>,
    reason: Reason,
    json: Vec<u8>,
}

/// How serde starts an [`EvalLine`] of line 0: what a [`Tail`] follows.
const LINE_ZERO: &[u8] = br#"{"line":0,"#;

impl<'f> Tails<'f> {
    /// Writes the JSON line of `flag` (the `index`th) for line `number`.
    fn write(
        &mut self,
        text: &mut Vec<u8>,
        number: usize,
        index: usize,
        flag: &str,
        resolution: Resolution<'f>,
    ) -> anyhow::Result<()> {
        let same = |a: Option<&str>, b: Option<&str>| match (a, b) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        let tails = &mut self.0[index];
        let known = tails.iter().position(|tail| {
            same(tail.variant, resolution.variant)
                && tail.value.map(std::ptr::from_ref) == resolution.value.map(std::ptr::from_ref)
                && tail.reason == resolution.reason
        });
        let line = |number| EvalLine {
            line: number,
            flag,
            variant: resolution.variant,
            value: resolution.value,
            reason: resolution.reason,
            error: resolution.error.clone(),
        };
        let tail = match known {
            Some(known) => &tails[known].json,
            None if resolution.error.is_none() => {
                let mut json = Vec::new();
                flagctl::output::write_json_line(&mut json, &line(0))?;
                let json = json
                    .strip_prefix(LINE_ZERO)
                    .context("an EvalLine starts with its line")?;
                tails.push(Tail {
                    variant: resolution.variant,
                    value: resolution.value,
                    reason: resolution.reason,
                    json: json.to_vec(),
                });
                &tails[tails.len() - 1].json
            }
            None => {
                flagctl::output::write_json_line(&mut *text, &line(number))?;
                text.push(b'\n');
                return Ok(());
            }
        };
        text.extend_from_slice(br#"{"line":"#);
        push_decimal(text, number);
        text.push(b',');
        text.extend_from_slice(tail);
        text.push(b'\n');
        Ok(())
    }
}

/// `n` in decimal digits, as `{n}` writes it, without the formatting machinery (it runs
/// once per line of output).
fn push_decimal(text: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    text.extend_from_slice(&digits[at..]);
}

/// The reason, with the error code when there is one.
fn reason_text(resolution: &Resolution<'_>) -> String {
    match &resolution.error {
        Some(error) => format!("{} ({})", resolution.reason, error.code),
        None => resolution.reason.to_string(),
    }
}

impl Evaluation<'_> {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let resolution = &self.resolution;
        writeln!(
            out,
            "{}: {}",
            self.flag,
            resolution.variant.unwrap_or("(no variant)")
        )?;
        if let Some(value) = resolution.value {
            writeln!(out, "  value   {value}")?;
        }
        writeln!(out, "  reason  {}", resolution.reason)?;
        if let Some(error) = &resolution.error {
            writeln!(out, "  error   {}: {}", error.code, error.message)?;
        }
        if let Some(rule) = resolution.rule {
            writeln!(out, "  rule    {rule}")?;
        }
        if let Some(bucket) = resolution.bucket {
            writeln!(out, "  bucket  {} of {}", bucket.value, bucket.total_weight)?;
        }
        if let Some(steps) = &self.steps {
            writeln!(out, "  steps")?;
            for (index, step) in steps.iter().enumerate() {
                writeln!(out, "    {}. {}", index + 1, step_text(step))?;
            }
        }
        Ok(())
    }
}

fn step_text(step: &Step) -> String {
    match step {
        Step::State { state } => format!(
            "state: {}{}",
            state_name(*state),
            if *state == State::Disabled {
                " (killed: serves its default)"
            } else {
                ""
            }
        ),
        Step::Concluded { winner } => {
            format!("concluded: serves the winner `{winner}` to everyone")
        }
        Step::Prerequisite {
            flag,
            required,
            got,
            reason,
            holds,
        } => format!(
            "prerequisite {flag} = `{required}`: got {} ({reason}) → {}",
            got.as_deref()
                .map_or("no variant".to_owned(), |v| format!("`{v}`")),
            if *holds {
                "holds"
            } else {
                "fails: serves the default"
            }
        ),
        Step::Layer {
            name,
            range: [from, to],
            bucket,
            inside,
        } => match bucket {
            Some(bucket) => format!(
                "layer {name} [{from}, {to}): bucket {bucket} of 100 → {}",
                if *inside {
                    "inside"
                } else {
                    "outside: serves the default"
                }
            ),
            None => format!(
                "layer {name} [{from}, {to}): no targeting key → outside: serves the default"
            ),
        },
        Step::Rule {
            name,
            conditions,
            matched,
        } => {
            let checks: Vec<String> = conditions.iter().map(condition_text).collect();
            let verdict = if *matched { "matches" } else { "no match" };
            if conditions.is_empty() {
                format!("rule {name}: no conditions → {verdict}")
            } else {
                format!("rule {name}: {} → {verdict}", checks.join(", "))
            }
        }
        Step::Rollout {
            bucket_by,
            bucket,
            total_weight,
            cumulative,
            chosen,
        } => {
            let ranges: Vec<String> = cumulative
                .iter()
                .map(|entry| format!("{} < {}", entry.variant, entry.up_to))
                .collect();
            match (bucket, chosen) {
                (Some(bucket), Some(chosen)) => format!(
                    "rollout on {bucket_by}: bucket {bucket} of {total_weight} ({}) → {chosen}",
                    ranges.join(", ")
                ),
                _ => format!(
                    "rollout on {bucket_by}: no {bucket_by} in the context → serves the default"
                ),
            }
        }
        Step::Targeting { result } => format!("targeting (JSONLogic) returned {result}"),
    }
}

fn condition_text(check: &ConditionCheck) -> String {
    let actual = check
        .actual
        .as_ref()
        .map_or("missing".to_owned(), Value::to_string);
    format!(
        "{} {} {} (got {actual}) {}",
        check.attr,
        check.op.name(),
        check.expected,
        if check.holds { "✓" } else { "✗" }
    )
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Enabled => "enabled",
        State::Disabled => "disabled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flagctl::eval::CumulativeWeight;
    use serde_json::json;

    #[test]
    fn decimals_are_written_as_format_writes_them() {
        for n in [0, 7, 10, 99, 100, 123_456, usize::MAX] {
            let mut text = Vec::new();
            push_decimal(&mut text, n);
            assert_eq!(String::from_utf8(text).unwrap(), n.to_string());
        }
    }

    #[test]
    fn times_are_rfc3339_or_the_end_of_a_day() {
        assert_eq!(
            parse_time("2026-11-20T12:00:00+08:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-20T12:00:00+08:00"
        );
        assert_eq!(
            parse_time("2026-11-20").unwrap().to_rfc3339(),
            "2026-11-20T23:59:59+00:00"
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn steps_read_as_sentences() {
        let layer = Step::Layer {
            name: "ranking".into(),
            range: [0, 40],
            bucket: Some(72),
            inside: false,
        };
        assert_eq!(
            step_text(&layer),
            "layer ranking [0, 40): bucket 72 of 100 → outside: serves the default"
        );
        assert_eq!(
            serde_json::to_value(&layer).unwrap(),
            json!({"step": "layer", "layer": "ranking", "range": [0, 40], "bucket": 72, "inside": false})
        );
        let step = Step::Rollout {
            bucket_by: "user_id".into(),
            bucket: Some(3),
            total_weight: 100,
            cumulative: [("candidate", 10), ("baseline", 100)]
                .map(|(variant, up_to)| CumulativeWeight {
                    variant: variant.into(),
                    up_to,
                })
                .to_vec(),
            chosen: Some("candidate".into()),
        };
        assert_eq!(
            step_text(&step),
            "rollout on user_id: bucket 3 of 100 (candidate < 10, baseline < 100) → candidate"
        );
        let json = serde_json::to_value(&step).unwrap();
        assert_eq!(json["step"], "rollout");
        assert_eq!(
            json["cumulative"][1],
            json!({"variant": "baseline", "up_to": 100})
        );
    }
}
