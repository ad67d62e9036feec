//! `flagctl remind`: one digest per owner of what needs action soon.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::output::{Output, emit};
use super::terminal::{self, tell};
use super::{Ctx, Format, Outcome, require_format};
use flagctl::output::Envelope;
use flagctl::remind::{Digest, digests, markdown, mrkdwn};

#[derive(clap::Args)]
pub struct Args {
    /// What falls due within this many days, at most 36500 (default: the policy's warn_days)
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(..=36_500))]
    within: Option<u32>,
    /// POST each owner's digest as JSON to this http:// or https:// URL (Slack-compatible `text`)
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    webhook: Option<String>,
    /// Seconds to wait for each webhook call (1 to 3600)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
}

/// What `remind` prints: the digests of the window.
#[derive(Serialize, JsonSchema)]
pub(super) struct Reminders {
    within_days: u32,
    digests: Vec<Digest>,
}

impl Output for Reminders {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        for digest in &self.digests {
            let reach: Vec<&str> = [&digest.contact, &digest.slack]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            write!(out, "{}", digest.owner)?;
            if !reach.is_empty() {
                write!(out, " <{}>", reach.join(", "))?;
            }
            writeln!(out)?;
            for a in &digest.actions {
                writeln!(out, "  {:<16} {}", a.action, a.subject())?;
                writeln!(out, "  {:<16} → {}", "", a.fix)?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    require_format(
        ctx,
        "remind",
        &[Format::Human, Format::Markdown, Format::Json],
    )?;
    let repo = ctx.load()?;
    let within = args.within.unwrap_or(repo.config.policy.warn_days);
    let digests = digests(&repo, ctx.today, within);

    if let Some(url) = &args.webhook {
        return post(ctx, url, &digests, Duration::from_secs(args.timeout));
    }
    match ctx.format() {
        Format::Markdown => {
            let texts: Vec<String> = digests.iter().map(|d| markdown(d, ctx.today)).collect();
            let mut out = terminal::stdout(false, true);
            out.write_all(texts.join("\n").as_bytes())?;
            out.flush()?;
        }
        _ => {
            if digests.is_empty() && ctx.format() == Format::Human {
                tell!("nothing due within {within} days");
            }
            emit(
                ctx,
                &Reminders {
                    within_days: within,
                    digests,
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The body of one webhook call: Slack shows `text`; the rest is for other receivers.
#[derive(Serialize, JsonSchema)]
struct Message<'a> {
    text: String,
    #[serde(flatten)]
    digest: &'a Digest,
}

fn parse_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(text.to_string()),
        _ => Err(format!("`{text}` is not an http:// or https:// URL")),
    }
}

/// What happened to one owner's digest.
#[derive(Serialize, JsonSchema)]
pub(super) struct Delivery {
    owner: String,
    delivered: bool,
    /// The HTTP status the webhook answered with, when it answered.
    status: Option<u16>,
    /// The first line of its answer (at most 200 characters), when there was one.
    response: Option<String>,
    /// Why the digest was not delivered.
    error: Option<String>,
    actions: usize,
}

/// `remind --webhook`: one delivery per owner.
#[derive(Serialize, JsonSchema)]
pub(super) struct Deliveries {
    /// The webhook, without credentials, path or query.
    webhook: String,
    delivered: usize,
    deliveries: Vec<Delivery>,
}

impl Output for Deliveries {
    fn human(&self, out: &mut dyn Write, _color: bool) -> std::io::Result<()> {
        for delivery in &self.deliveries {
            match &delivery.error {
                None => writeln!(
                    out,
                    "sent: {} ({})",
                    delivery.owner,
                    count(delivery.actions, "action")
                )?,
                Some(error) => writeln!(out, "failed: {}: {error}", delivery.owner)?,
            }
        }
        writeln!(
            out,
            "{} of {} delivered to {}",
            self.delivered,
            count(self.deliveries.len(), "digest"),
            self.webhook
        )
    }
}

/// Posts one message per owner; reports each delivery and exits 1 if any failed.
fn post(ctx: &Ctx, url: &str, digests: &[Digest], timeout: Duration) -> Outcome {
    // A redirect would turn the POST into a body-less GET, perhaps to another host: a
    // webhook that answers with one has not received the digest.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("flagctl/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let shown = redact(url);
    let mut deliveries = Vec::new();
    for digest in digests {
        let message = Message {
            text: mrkdwn(digest, ctx.today),
            digest,
        };
        let body = serde_json::to_string(&Envelope::new(ctx.today, &message))?;
        let result = agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body);
        let mut delivery = Delivery {
            owner: digest.owner.clone(),
            delivered: false,
            status: None,
            response: None,
            error: None,
            actions: digest.actions.len(),
        };
        match result {
            Ok(mut response) => {
                let status = response.status();
                delivery.status = Some(status.as_u16());
                delivery.response = response
                    .body_mut()
                    .with_config()
                    .limit(4096)
                    .read_to_string()
                    .ok()
                    .and_then(|text| text.lines().next().map(|l| l.chars().take(200).collect()));
                if status.is_success() {
                    delivery.delivered = true;
                } else if status.is_redirection() {
                    delivery.error = Some(format!(
                        "the webhook answered {status} (a redirect); flagctl does not follow redirects"
                    ));
                } else {
                    delivery.error = Some(format!("the webhook answered {status}"));
                }
            }
            Err(ureq::Error::Timeout(_)) => {
                delivery.error = Some(format!("no answer within {} s", timeout.as_secs()));
            }
            Err(e) => delivery.error = Some(e.to_string().replace(url, &shown)),
        }
        deliveries.push(delivery);
    }
    let delivered = deliveries.iter().filter(|d| d.delivered).count();
    let failed = delivered < deliveries.len();
    emit(
        ctx,
        &Deliveries {
            webhook: shown,
            delivered,
            deliveries,
        },
    )?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A webhook URL as it may be printed: scheme and host only. Credentials, and the path
/// and query that carry a Slack webhook's secret, are left out.
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let hidden = if authority.len() < rest.len() || authority.contains('@') {
        "/…"
    } else {
        ""
    };
    format!("{scheme}://{host}{hidden}")
}

/// `1 action`, `3 actions`.
fn count(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_printed_without_secrets() {
        assert_eq!(
            super::redact("https://user:pw@hooks.slack.com/services/T0/B0/secret?x=1"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            super::redact("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(super::redact("http://a@b"), "http://b/…");
    }
}
