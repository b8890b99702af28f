//! `fedblog check`: every problem in the configuration and the content, each with its
//! file, line and what to do; with `--online`, what the world sees on the domain.

use std::{path::PathBuf, sync::Arc};

use serde::Serialize;
use serde_json::Value;

use super::Cli;
use crate::{
    config::{Config, ConfigError, Overrides},
    content::{self, ContentError},
    federation::client::{AddressPolicy, http_client},
    uris::Uris,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also ask the configured domain, over the network, for WebFinger, each actor and a post.
    #[arg(long)]
    online: bool,
    /// Print one JSON object instead of lines.
    #[arg(long)]
    json: bool,
}

/// One thing to fix (or, as a warning, to look at).
#[derive(Debug, Serialize)]
struct Problem {
    severity: Severity,
    file: Option<PathBuf>,
    line: Option<usize>,
    field: Option<String>,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Error,
    Warning,
}

/// One request of `--online` and what came back.
#[derive(Debug, Serialize)]
struct Probe {
    url: String,
    ok: bool,
    message: String,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    ok: bool,
    authors: usize,
    posts: usize,
    problems: Vec<Problem>,
    online: Vec<Probe>,
}

impl Problem {
    fn line(&self) -> String {
        let mut s = String::new();
        if let Some(f) = &self.file {
            s.push_str(&f.display().to_string());
            if let Some(l) = self.line {
                s.push_str(&format!(":{l}"));
            }
            s.push_str(": ");
        }
        if let Some(field) = &self.field {
            s.push_str(&format!("field `{field}`: "));
        }
        s.push_str(&self.message);
        s
    }
}

impl From<ConfigError> for Problem {
    fn from(e: ConfigError) -> Self {
        let (file, line, field, message) = match e {
            ConfigError::Read { path, source } => (
                path,
                None,
                None,
                format!(
                    "cannot read the configuration file: {source}; create one with `fedblog init`"
                ),
            ),
            ConfigError::Parse {
                path,
                line,
                field,
                message,
            } => (path, Some(line), field, message),
            ConfigError::Invalid {
                path,
                line,
                field,
                message,
            } => (path, line, Some(field), message),
        };
        Problem {
            severity: Severity::Error,
            file: Some(file),
            line,
            field,
            message,
        }
    }
}

impl From<ContentError> for Problem {
    fn from(e: ContentError) -> Self {
        Problem {
            severity: Severity::Error,
            file: Some(e.file),
            line: e.line,
            field: e.field,
            message: e.message,
        }
    }
}

pub async fn run(cli: &Cli, args: &Args) -> anyhow::Result<i32> {
    let mut report = Report::default();
    let overrides = Overrides {
        database: cli.database.clone(),
        content: cli.content.clone(),
    };
    match Config::load_with(&cli.config, &overrides) {
        Err(e) => report.problems.push(e.into()),
        Ok(config) => {
            let uris = Uris::new(config.scheme(), &config.domain)
                .with_account_domain(config.account_domain.as_deref());
            let root = config.content.clone();
            let scan = {
                let uris = uris.clone();
                let language = config.site_language.clone();
                tokio::task::spawn_blocking(move || {
                    let site = content::Site {
                        uris: &uris,
                        language: &language,
                    };
                    content::scan(&root, &site)
                })
                .await?
            };
            let mut scan = scan;
            report
                .problems
                .extend(mention_warnings(&config, &mut scan).await?);
            report.authors = scan.authors.len();
            report.posts = scan.authors.iter().map(|a| a.posts.len()).sum();
            let shortened = shortened_posts(&scan);
            report
                .problems
                .extend(scan.errors.into_iter().map(Problem::from));
            report.problems.extend(shortened);
            report
                .problems
                .extend(config_warnings(&cli.config, &config));
            if scan.authors.is_empty() {
                report.problems.push(Problem {
                    severity: Severity::Error,
                    file: Some(config.content.clone()),
                    line: None,
                    field: None,
                    message:
                        "no author: add a folder with an author.toml (`fedblog init` writes one)"
                            .into(),
                });
            }
            if args.online {
                let client = http_client(&config, Arc::new(AddressPolicy::new(&config)))?;
                for author in &scan.authors {
                    let post = author
                        .posts
                        .first()
                        .map(|p| uris.post(&author.handle, &p.slug));
                    probe_author(&client, &uris, &author.handle, post, &mut report.online).await;
                }
            }
        }
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count()
        + report.online.iter().filter(|p| !p.ok).count();
    report.ok = errors == 0;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report, errors);
    }
    Ok(if errors == 0 { 0 } else { 1 })
}

fn print_human(report: &Report, errors: usize) {
    for p in &report.problems {
        let tag = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("{tag}: {}", p.line());
    }
    for p in &report.online {
        println!(
            "{}: {} {}",
            if p.ok { "ok" } else { "error" },
            p.url,
            p.message
        );
    }
    let warnings = report.problems.len()
        - report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
    if errors == 0 {
        println!(
            "ok: {} author(s), {} post(s){}",
            report.authors,
            report.posts,
            match warnings {
                0 => String::new(),
                n => format!("; {n} warning(s)"),
            }
        );
    } else {
        println!("{errors} error(s), {warnings} warning(s)");
    }
}

/// A warning for each mention whose account cannot be found (sync publishes it as
/// text). Resolving needs the database (its cache) and the fetcher: the app is opened
/// only when some post mentions someone.
async fn mention_warnings(
    config: &Config,
    scan: &mut content::Scan,
) -> anyhow::Result<Vec<Problem>> {
    let uris = Uris::new(config.scheme(), &config.domain)
        .with_account_domain(config.account_domain.as_deref());
    if !crate::service::mentions::needs_lookup(scan, &uris) {
        return Ok(Vec::new());
    }
    let app = crate::startup::app(config.clone()).await?;
    let warnings = crate::service::mentions::link(&app, scan).await?;
    Ok(warnings
        .into_iter()
        .map(|w| Problem {
            severity: Severity::Warning,
            ..Problem::from(w)
        })
        .collect())
}

/// Settings that load but will not work in public.
fn config_warnings(path: &std::path::Path, config: &Config) -> Vec<Problem> {
    let host = config.domain.split(':').next().unwrap_or_default();
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok();
    let mut out = Vec::new();
    let warn = |field: &str, message: &str| Problem {
        severity: Severity::Warning,
        file: Some(path.to_owned()),
        line: None,
        field: Some(field.to_owned()),
        message: message.to_owned(),
    };
    if config.dev && !local {
        out.push(warn(
            "dev",
            "dev mode on a public domain: URLs are http and loopback fetches are allowed; remove `dev = true`",
        ));
    }
    if !config.dev && local {
        out.push(warn(
            "domain",
            "fediverse servers only reach public domains over HTTPS; set the domain readers use",
        ));
    }
    out
}

/// WebFinger, actor and one post of an author, as a fediverse server asks for them.
async fn probe_author(
    client: &reqwest::Client,
    uris: &Uris,
    handle: &crate::domain::Handle,
    post: Option<String>,
    out: &mut Vec<Probe>,
) {
    let actor = uris.actor(handle);
    let acct = format!("acct:{handle}@{}", uris.domain());
    let wf_url = format!("{}/.well-known/webfinger?resource={acct}", uris.base());
    out.push(
        match get_json(client, &wf_url, "application/jrd+json, application/json").await {
            Err(e) => fail(&wf_url, e),
            Ok(jrd) => {
                let self_link = jrd["links"].as_array().and_then(|links| {
                    links.iter().find(|l| {
                        l["rel"] == "self"
                            && l["type"]
                                .as_str()
                                .is_some_and(|t| t.contains("activity+json"))
                    })
                });
                match (jrd["subject"].as_str(), self_link) {
                    (Some(s), Some(l)) if s == acct && l["href"] == actor.as_str() => {
                        pass(&wf_url, format!("{acct} → {actor}"))
                    }
                    _ => fail(
                        &wf_url,
                        format!("expected subject {acct} and a self link to {actor}; got {jrd}"),
                    ),
                }
            }
        },
    );
    let ap = "application/activity+json, application/ld+json";
    out.push(match get_json(client, &actor, ap).await {
        Err(e) => fail(&actor, e),
        Ok(doc)
            if doc["id"] == actor.as_str()
                && doc["type"] == "Person"
                && doc["publicKey"]["owner"] == actor.as_str() =>
        {
            pass(&actor, "a Person with its public key".into())
        }
        Ok(doc) => fail(
            &actor,
            format!(
                "expected a Person with id {actor} and its publicKey; got id {} type {}",
                doc["id"], doc["type"]
            ),
        ),
    });
    if let Some(post) = post {
        out.push(match get_json(client, &post, ap).await {
            Err(e) => fail(&post, e),
            Ok(doc) if doc["id"] == post.as_str() && doc["attributedTo"] == actor.as_str() => pass(
                &post,
                format!("an {}", doc["type"].as_str().unwrap_or("object")),
            ),
            Ok(doc) => fail(
                &post,
                format!(
                    "expected an object with id {post} by {actor}; got id {}",
                    doc["id"]
                ),
            ),
        });
    }
}

fn pass(url: &str, message: String) -> Probe {
    Probe {
        url: url.to_owned(),
        ok: true,
        message,
    }
}

fn fail(url: &str, message: String) -> Probe {
    Probe {
        url: url.to_owned(),
        ok: false,
        message,
    }
}

async fn get_json(client: &reqwest::Client, url: &str, accept: &str) -> Result<Value, String> {
    let res = client
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .map_err(|e| {
            format!(
                "no answer ({e}); is the server running and the reverse proxy passing this host?"
            )
        })?;
    let status = res.status();
    if !status.is_success() {
        return Err(format!("answered {status}; expected 200"));
    }
    res.json()
        .await
        .map_err(|e| format!("answered 200 but not JSON: {e}"))
}

/// A warning for each post too long to federate whole: followers' servers get its
/// excerpt (or first paragraphs) and a link (docs/RENDERING.md, "Size").
fn shortened_posts(scan: &content::Scan) -> Vec<Problem> {
    scan.authors
        .iter()
        .flat_map(|a| {
            a.posts
                .iter()
                .filter(|p| p.federated_shortened)
                .map(|p| Problem {
                    severity: Severity::Warning,
                    file: Some(a.dir.join(&p.source_path)),
                    line: None,
                    field: None,
                    message: format!(
                        "longer than {} KiB once rendered: the fediverse gets its {} and a link to the page",
                        content::FEDERATED_BODY_MAX_BYTES / 1024,
                        if p.excerpt.is_some() { "excerpt" } else { "first paragraphs" }
                    ),
                })
        })
        .collect()
}
