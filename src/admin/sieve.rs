//! `postfach sieve put|get|list|activate|deactivate|delete --user U`: an
//! account's Sieve scripts, as ManageSieve (RFC 5804) edits them, and
//! `postfach sieve test SCRIPT MESSAGE`: what a script would do to a message.
//!
//! The commands work while the server runs (the store takes concurrent
//! writers); the next delivery uses the change. `put` checks a script exactly
//! as PUTSCRIPT does (name, `[sieve] max_scripts`/`max_script_size`, the same
//! compiler) and reports a compile error as `FILE:LINE:COL: message`.
//!
//! `sieve test` prints one line per effect, in this stable format
//! (docs/sieve.md), strings quoted as in Sieve (`"` and `\` escaped, CR/LF as
//! `\r`/`\n`):
//!
//! ```text
//! keep [:flags "F …"]
//! fileinto "MAILBOX" [:flags "F …"] [:copy] [:create] [:specialuse "USE"]
//! redirect "ADDRESS" [:copy]
//! discard
//! reject "REASON"            (ereject "REASON")
//! vacation to="…" subject="…" period=SECONDS handle="…" [from="…"] [mime] reason="…"
//! addheader "NAME" "VALUE" [:last]
//! deleteheader "NAME" :index N
//! # vacation not sent: WHY
//! error LINE:COL MESSAGE
//! ```
//!
//! A runtime error prints `error …` and then `keep`: at delivery the message
//! would go to INBOX. A script that does not compile prints `error …` alone
//! and the command fails (exit status 1).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use sieve::{Envelope, HeaderEdit, Host, IncludeLocation, Message};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum SieveCommand {
    /// Store a script, checked like ManageSieve PUTSCRIPT. The script comes from FILE,
    /// or from standard input when FILE is absent or `-`.
    Put {
        name: String,
        file: Option<PathBuf>,
        #[arg(long, value_name = "NAME")]
        user: String,
        /// Make it the active script as well.
        #[arg(long)]
        activate: bool,
    },
    /// Print a script.
    Get {
        name: String,
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// List the scripts, one per line; the active one is marked with `*`.
    List {
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// Make a script the one that runs at delivery.
    Activate {
        name: String,
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// Run no script at delivery. With NAME, only if NAME is the active script.
    Deactivate {
        name: Option<String>,
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// Delete a script (not the active one).
    Delete {
        name: String,
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// Run SCRIPT (a file) on MESSAGE (a file, or `-` for standard input) and print the
    /// resulting actions, one per line (format: docs/sieve.md). Nothing is stored or sent.
    Test {
        script: PathBuf,
        message: PathBuf,
        /// Envelope sender (MAIL FROM); empty is the null sender `<>`.
        #[arg(long, value_name = "ADDR", default_value = "")]
        from: String,
        /// Envelope recipient (RCPT TO), also the user's address for vacation.
        #[arg(long, value_name = "ADDR", default_value = "")]
        to: String,
        /// A mailbox that exists (mailboxexists, fileinto without :create); repeatable.
        /// INBOX always exists.
        #[arg(long = "mailbox-exists", value_name = "MAILBOX", num_args = 1..)]
        mailbox_exists: Vec<String>,
    },
}

/// Reads the configuration without writing one (the admin commands create nothing).
fn read_config(path: &Path) -> anyhow::Result<Config> {
    match std::fs::read_to_string(path) {
        Ok(text) => Config::parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")
}

/// Runs a `sieve` subcommand. `test` needs no data directory.
pub fn run(
    data_dir: &Path,
    config_path: &Path,
    cmd: &SieveCommand,
    input: &mut impl Read,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let config = read_config(config_path)?;
    let user = match cmd {
        SieveCommand::Test { script, message, from, to, mailbox_exists } => {
            return test(&config, script, message, from, to, mailbox_exists, input, out)
        }
        SieveCommand::Put { user, .. }
        | SieveCommand::Get { user, .. }
        | SieveCommand::List { user }
        | SieveCommand::Activate { user, .. }
        | SieveCommand::Deactivate { user, .. }
        | SieveCommand::Delete { user, .. } => user,
    };
    let store = super::open_store(data_dir, false)?;
    let id = store.account_id(user)?.with_context(|| format!("account {user} does not exist"))?;
    let account = store.account(id).with_context(|| format!("cannot open account {user}"))?;
    let rt = runtime()?;
    rt.block_on(async {
        match cmd {
            SieveCommand::Put { name, file, activate, .. } => {
                let (origin, content) = read_script(file.as_deref(), input)?;
                check_put(&config, &account, name, &content, &origin).await?;
                account.put_sieve_script(name, &content).await?;
                if *activate {
                    account.set_sieve_active(Some(name)).await?;
                }
            }
            SieveCommand::Get { name, .. } => {
                let content = account.sieve_script(name).await?;
                let content = content.with_context(|| format!("{user} has no script {name:?}"))?;
                out.write_all(content.as_bytes())?;
            }
            SieveCommand::List { .. } => {
                for s in account.sieve_scripts().await? {
                    writeln!(out, "{} {}", if s.active { "*" } else { " " }, s.name)?;
                }
            }
            SieveCommand::Activate { name, .. } => match account.set_sieve_active(Some(name)).await {
                Err(store::Error::NotFound(_)) => bail!("{user} has no script {name:?}"),
                r => r?,
            },
            SieveCommand::Deactivate { name, .. } => {
                let active = account.sieve_active().await?.map(|(n, _)| n);
                if let Some(name) = name {
                    if active.as_deref() != Some(name.as_str()) {
                        bail!("{name:?} is not the active script of {user}");
                    }
                }
                account.set_sieve_active(None).await?;
            }
            SieveCommand::Delete { name, .. } => match account.delete_sieve_script(name).await {
                Err(store::Error::NotFound(_)) => bail!("{user} has no script {name:?}"),
                Err(store::Error::NotAllowed(_)) => {
                    bail!("{name:?} is the active script of {user}; deactivate it first")
                }
                r => r?,
            },
            SieveCommand::Test { .. } => {}
        }
        Ok(())
    })
}

/// The script's origin (for messages) and text: FILE, or stdin for none/`-`.
fn read_script(file: Option<&Path>, input: &mut impl Read) -> anyhow::Result<(String, String)> {
    let (origin, bytes) = match file.filter(|f| *f != Path::new("-")) {
        Some(f) => (f.display().to_string(), std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?),
        None => {
            let mut b = Vec::new();
            input.read_to_end(&mut b).context("cannot read standard input")?;
            ("<stdin>".to_string(), b)
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{origin}: a Sieve script must be UTF-8"))?;
    Ok((origin, text))
}

/// The checks of ManageSieve PUTSCRIPT (RFC 5804 §2.6): name, quotas, compiler.
async fn check_put(
    config: &Config,
    account: &store::Account,
    name: &str,
    content: &str,
    origin: &str,
) -> anyhow::Result<()> {
    if !crate::managesieve::valid_name(name) {
        bail!("invalid script name {name:?} (1 to 128 characters, no control characters)");
    }
    let max = config.sieve.max_script_size;
    if content.len() > max {
        bail!("{origin}: the script is {} bytes, more than sieve.max_script_size ({max})", content.len());
    }
    let list = account.sieve_scripts().await?;
    if !list.iter().any(|s| s.name == name) && list.len() >= config.sieve.max_scripts {
        bail!("the account has {} scripts already, the limit (sieve.max_scripts)", list.len());
    }
    if let Err(e) = crate::delivery::filter::compiler(config).compile(content) {
        bail!("{origin}:{}:{}: {}", e.pos.line, e.pos.col, e.message);
    }
    Ok(())
}

/// `sieve test`: compile, run with [`TestHost`], print the effects.
#[allow(clippy::too_many_arguments)]
fn test(
    config: &Config,
    script: &Path,
    message: &Path,
    from: &str,
    to: &str,
    mailboxes: &[String],
    input: &mut impl Read,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let (_, src) = read_script(Some(script), input)?;
    let raw = if message == Path::new("-") {
        let mut b = Vec::new();
        input.read_to_end(&mut b).context("cannot read the message from standard input")?;
        b
    } else {
        std::fs::read(message).with_context(|| format!("cannot read {}", message.display()))?
    };
    let compiler = crate::delivery::filter::compiler(config);
    let compiled = match compiler.compile(&src) {
        Ok(s) => s,
        Err(e) => {
            writeln!(out, "error {}:{} {}", e.pos.line, e.pos.col, e.message)?;
            out.flush()?;
            bail!("{}:{}:{}: {}", script.display(), e.pos.line, e.pos.col, e.message);
        }
    };
    let msg = Message::parse(&crate::delivery::to_crlf(&raw));
    let env = Envelope::new(from, to);
    let mut host = TestHost {
        mailboxes: mailboxes.to_vec(),
        dir: script.parent().map(Path::to_path_buf).unwrap_or_default(),
        to: to.to_string(),
        spamtest: config.sieve.spamtest().unwrap_or_default(),
        virustest: config.sieve.virustest().unwrap_or_default(),
    };
    match sieve::run(&compiler, &compiled, &msg, &env, &mut host) {
        Ok(outcome) => {
            for line in outcome.lines() {
                writeln!(out, "{line}")?;
            }
            for edit in &outcome.header_edits {
                match edit {
                    HeaderEdit::Add { name, value, last } => writeln!(
                        out,
                        "addheader {} {}{}",
                        sieve::actions::quote(name),
                        sieve::actions::quote(value),
                        if *last { " :last" } else { "" }
                    )?,
                    HeaderEdit::Delete { name, occurrence } => {
                        writeln!(out, "deleteheader {} :index {occurrence}", sieve::actions::quote(name))?
                    }
                }
            }
            if let Some(why) = &outcome.vacation_suppressed {
                writeln!(out, "# vacation not sent: {why}")?;
            }
        }
        Err(e) => {
            let pos = e.pos();
            writeln!(out, "error {}:{} {}", pos.line, pos.col, e.message())?;
            writeln!(out, "keep")?;
        }
    }
    Ok(())
}

/// What `sieve test` knows of the world: the mailboxes given, scripts for
/// `include` next to SCRIPT (`NAME` or `NAME.sieve`), nothing seen before
/// (duplicate is false), the configured spam/virus headers.
struct TestHost {
    mailboxes: Vec<String>,
    dir: PathBuf,
    to: String,
    spamtest: Option<sieve::ScoreHeader>,
    virustest: Option<sieve::ScoreHeader>,
}

impl Host for TestHost {
    fn mailbox_exists(&self, mailbox: &str) -> bool {
        mailbox.eq_ignore_ascii_case("INBOX") || self.mailboxes.iter().any(|m| m == mailbox)
    }

    fn include(&mut self, _location: IncludeLocation, name: &str) -> Result<Option<String>, String> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Ok(None);
        }
        for file in [self.dir.join(name), self.dir.join(format!("{name}.sieve"))] {
            if let Ok(s) = std::fs::read_to_string(&file) {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    fn environment(&self, name: &str) -> Option<String> {
        match name {
            "domain" => self.to.rsplit_once('@').map(|(_, d)| d.to_string()),
            "host" => Some(crate::lmtp::hostname()),
            _ => None,
        }
    }

    fn user_addresses(&self) -> Vec<String> {
        if self.to.is_empty() {
            Vec::new()
        } else {
            vec![self.to.clone()]
        }
    }

    fn spamtest(&self) -> Option<sieve::ScoreHeader> {
        self.spamtest.clone()
    }

    fn virustest(&self) -> Option<sieve::ScoreHeader> {
        self.virustest.clone()
    }
}
