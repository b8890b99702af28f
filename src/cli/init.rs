//! `fedblog init`: from an empty folder to a blog that serves and can be followed:
//! `config.toml`, `content/<handle>/author.toml` and a first post. Keys are made by
//! the first `serve` or `sync`, which creates the database.

use std::{
    io::{BufRead, IsTerminal, Write},
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};

use crate::{
    config::{Config, Overrides},
    domain::Handle,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The public host name readers and servers reach, e.g. blog.example.
    #[arg(long)]
    domain: Option<String>,
    /// The author's handle: their address becomes @handle@domain.
    #[arg(long)]
    handle: Option<String>,
    /// The author's display name.
    #[arg(long)]
    name: Option<String>,
    /// A line or two about the author (Markdown).
    #[arg(long)]
    bio: Option<String>,
    /// The address the server listens on, behind the TLS reverse proxy.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Development mode: plain http and loopback fetches (for trying it on localhost).
    #[arg(long)]
    dev: bool,
}

/// What the user answered.
struct Answers {
    domain: String,
    handle: Handle,
    name: String,
    bio: String,
}

pub fn run(config_path: &Path, args: &Args) -> anyhow::Result<i32> {
    if config_path.exists() {
        bail!(
            "{} already exists; init never overwrites it (pass --config to write another file)",
            config_path.display()
        );
    }
    let answers = ask(args)?;
    let written = write(config_path, args, &answers)?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    let config_flag = match config_path == Path::new("config.toml") {
        true => String::new(),
        false => format!(" --config {}", config_path.display()),
    };
    println!(
        "\nNext: `fedblog{config_flag} check`, then `fedblog{config_flag} serve`.\n\
         Followers find the author as @{}@{} once the domain answers over HTTPS \
         (see docs/SELF-HOSTING.md).",
        answers.handle, answers.domain
    );
    Ok(0)
}

/// Takes each answer from its flag, or asks on the terminal.
fn ask(args: &Args) -> anyhow::Result<Answers> {
    let interactive = std::io::stdin().is_terminal();
    let mut missing = Vec::new();
    let mut get = |flag: &Option<String>, name: &'static str, question: &str, default: &str| {
        if let Some(v) = flag {
            return Ok(v.trim().to_owned());
        }
        if !interactive {
            missing.push(name);
            return Ok(String::new());
        }
        prompt(question, default)
    };
    let domain = get(
        &args.domain,
        "--domain",
        "Domain (the public host name)",
        "",
    )?;
    let handle = get(
        &args.handle,
        "--handle",
        "Author handle (as in @handle@domain)",
        "",
    )?;
    let name = get(&args.name, "--name", "Display name", &handle)?;
    let bio = get(&args.bio, "--bio", "Bio (one line, Markdown)", "")?;
    if !missing.is_empty() {
        bail!(
            "not a terminal, so nothing can be asked: give {}",
            missing.join(", ")
        );
    }
    let handle = Handle::parse(&handle).map_err(|e| anyhow::anyhow!("handle: {}", e.0))?;
    if name.is_empty() {
        bail!("name: must not be empty");
    }
    Ok(Answers {
        domain,
        handle,
        name,
        bio,
    })
}

fn prompt(question: &str, default: &str) -> anyhow::Result<String> {
    let mut out = std::io::stdout();
    match default.is_empty() {
        true => write!(out, "{question}: ")?,
        false => write!(out, "{question} [{default}]: ")?,
    }
    out.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    Ok(if line.is_empty() { default } else { line }.to_owned())
}

/// A TOML string literal (quotes and escapes done by the TOML writer).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Writes the files, after checking that the configuration loads.
fn write(config_path: &Path, args: &Args, a: &Answers) -> anyhow::Result<Vec<PathBuf>> {
    let config_text = format!(
        "# fedblog configuration, written by `fedblog init`; `fedblog check` validates it.\n\
         # Paths are relative to this file. FEDBLOG_DATABASE / FEDBLOG_CONTENT override them.\n\
         listen = \"{listen}\"\n\
         domain = {domain}\n\
         {dev}\
         database = \"data/fedblog.sqlite\"\n\
         content = \"content\"\n\
         \n\
         [site]\n\
         title = {title}\n\
         description = {description}\n\
         \n\
         # Prometheus metrics at http://<listen>/metrics; keep it on loopback or a private network.\n\
         # [admin]\n\
         # listen = \"127.0.0.1:9090\"\n",
        listen = args.listen,
        domain = toml_str(&a.domain),
        dev = if args.dev {
            "# Development mode: plain http and loopback fetches. Remove it on a public server.\ndev = true\n"
        } else {
            ""
        },
        title = toml_str(&a.name),
        description = toml_str(&a.bio),
    );
    let config = Config::parse(config_path, &config_text, &Overrides::default())?;
    let author_dir = config.content.join(a.handle.as_str());
    if author_dir.exists() {
        bail!(
            "{} already exists; init never overwrites content",
            author_dir.display()
        );
    }
    let author_text = format!(
        "name = {name}\n\
         bio = {bio}\n\
         # avatar = \"avatar.png\"   # a PNG or JPEG beside this file\n\
         # An account you are moving from, so its followers can move here:\n\
         # also_known_as = [\"https://mastodon.example/users/{handle}\"]\n",
        name = toml_str(&a.name),
        bio = toml_str(&a.bio),
        handle = a.handle,
    );
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let post_text = format!(
        "---\ntitle: \"Hello, fediverse\"\ndate: {today}\n\
         excerpt: \"The first post of this blog: follow @{handle}@{domain} from any fediverse account.\"\n\
         tags: [introduction]\n---\n\n\
         This blog is on the fediverse: search for **@{handle}@{domain}** on Mastodon or any\n\
         other server and press Follow. New posts reach followers as soon as they are published.\n",
        handle = a.handle,
        domain = config.domain,
    );
    if let Some(dir) = config_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::create_dir_all(&author_dir)
        .with_context(|| format!("creating {}", author_dir.display()))?;
    let files = [
        (config_path.to_owned(), config_text),
        (author_dir.join("author.toml"), author_text),
        (author_dir.join("hello-fediverse.md"), post_text),
    ];
    for (path, text) in &files {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}
