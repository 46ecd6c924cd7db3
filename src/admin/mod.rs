//! The command line (DESIGN.md §6) and the `serve` start-up sequence:
//! data directory → configuration → store → first account → TLS → listeners.

pub mod address;
pub mod deliver;
pub mod index;
pub mod metadata;
pub mod quota;
pub mod sieve;
pub mod user;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{self, Config};

/// postfach: an IMAP4rev2 mail server with an embedded, durable store.
#[derive(Debug, Parser)]
#[command(name = "postfach", version, about)]
pub struct Cli {
    /// Data directory: accounts, mail, TLS certificate, configuration.
    #[arg(long, global = true, env = "POSTFACH_DATA", default_value = "./postfach-data", value_name = "DIR")]
    pub data: PathBuf,
    /// Configuration file [default: DIR/postfach.toml].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every configured listener (creates the data directory on first start).
    Serve(ServeArgs),
    /// Manage accounts (works while the server runs).
    #[command(subcommand)]
    User(UserCommand),
    /// Assign delivery addresses to accounts (`@domain` is the domain's catch-all).
    #[command(subcommand)]
    Address(AddressCommand),
    /// The domains this server receives mail for.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Deliver one message from standard input (for an MTA's pipe transport).
    /// Exits with sysexits codes: 67 unknown user, 75 temporary failure, 65 bad message,
    /// 73 over quota (75 with quota.over_quota_temporary).
    Deliver(DeliverArgs),
    /// Per-account quotas: storage (sum of message sizes) and message count (RFC 9208).
    #[command(subcommand)]
    Quota(QuotaCommand),
    /// Sieve filters of an account (works while the server runs), and `sieve test`:
    /// what a script would do to a message.
    #[command(subcommand)]
    Sieve(sieve::SieveCommand),
    /// Server-wide /shared METADATA entries every user reads (RFC 5464), e.g.
    /// /shared/comment or /shared/vendor/deltachat/irohrelay.
    #[command(subcommand)]
    Metadata(MetadataCommand),
    /// The full-text index SEARCH uses (works while the server runs).
    #[command(subcommand)]
    Index(IndexCommand),
    /// One worker process of `serve --workers N`, started by `serve` itself
    /// (src/workers.rs); it reads its listeners from standard input.
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, Subcommand)]
pub enum MetadataCommand {
    /// Set a server entry (its name starts with /shared/).
    Set { entry: String, value: String },
    /// Remove a server entry.
    Unset { entry: String },
    /// Every server entry with its value, one per line.
    List,
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Rebuild an account's full-text index from its messages (after an
    /// upgrade from a version without it, or to repair it).
    Rebuild {
        #[arg(long, value_name = "NAME")]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Set an account's limits; a limit not given stays as it is.
    Set {
        name: String,
        /// Storage limit: bytes or a number with K, M, G, T (powers of 1024); `none` removes it.
        #[arg(long, value_name = "SIZE")]
        storage: Option<String>,
        /// Message-count limit; `none` removes it.
        #[arg(long, value_name = "COUNT")]
        messages: Option<String>,
    },
    /// Show an account's usage and limits.
    Get { name: String },
    /// Usage and limits of every account, one per line.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AddressCommand {
    /// Deliver mail for ADDRESS (`local@domain`, or `@domain` for all of a domain) to an account.
    Add {
        address: String,
        /// The account receiving the mail.
        #[arg(long, value_name = "NAME")]
        user: String,
    },
    /// List the addresses with their accounts.
    List,
    /// Remove an address.
    Del { address: String },
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Serve a domain: every account `NAME` receives mail for `NAME@DOMAIN`.
    /// While no domain is listed, every domain is served.
    Add { name: String },
    /// List the served domains.
    List,
    /// Stop serving a domain.
    Del { name: String },
}

#[derive(Debug, Clone, clap::Args)]
pub struct DeliverArgs {
    /// Recipient: an account name or an address assigned to one.
    #[arg(long, value_name = "NAME")]
    pub to: String,
    /// Envelope sender, for the Return-Path header (empty: `<>`).
    #[arg(long, value_name = "SENDER", default_value = "")]
    pub from: String,
    /// Mailbox to deliver into (INBOX if it does not exist).
    #[arg(long, value_name = "MBOX", default_value = "INBOX")]
    pub mailbox: String,
}

/// `serve` flags; each overrides the config key of the same name.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// IMAP (STARTTLS) listener address, or `none` [config: listen.imap].
    #[arg(long, value_name = "ADDR", value_parser = parse_listen_arg)]
    pub imap: Option<ListenAddr>,
    /// IMAPS (implicit TLS) listener address, or `none` [config: listen.imaps].
    #[arg(long, value_name = "ADDR", value_parser = parse_listen_arg)]
    pub imaps: Option<ListenAddr>,
    /// LMTP listener address, or `none` [config: listen.lmtp].
    #[arg(long, value_name = "ADDR", value_parser = parse_listen_arg)]
    pub lmtp: Option<ListenAddr>,
    /// ManageSieve listener address, or `none` [config: listen.managesieve].
    #[arg(long, value_name = "ADDR", value_parser = parse_listen_arg)]
    pub managesieve: Option<ListenAddr>,
    /// LMTP Unix socket path [config: listen.lmtp_socket].
    #[arg(long, value_name = "PATH")]
    pub lmtp_socket: Option<PathBuf>,
    /// Worker processes; above 1, `serve` supervises that many [config: server.workers].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

/// A listener address from the command line; `None` is `none` (disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenAddr(pub Option<SocketAddr>);

fn parse_listen_arg(s: &str) -> Result<ListenAddr, String> {
    config::parse_listen_addr(s).map(ListenAddr)
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a random password is generated and printed.
    Add {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts, one name per line.
    List,
    /// Delete an account and all its mail.
    Del { name: String },
    /// Set an account's password. Without --password-stdin a random one is generated and printed.
    Passwd {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

impl UserCommand {
    /// The account the command is about (`None` for `list`).
    pub fn name(&self) -> Option<&str> {
        match self {
            UserCommand::Add { name, .. } | UserCommand::Del { name } | UserCommand::Passwd { name, .. } => Some(name),
            UserCommand::List => None,
        }
    }
}

impl Cli {
    /// The configuration file: `--config`, else `DATA/postfach.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.config.clone().unwrap_or_else(|| self.data.join(config::FILE_NAME))
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: logs piped to a file or journald stay plain.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs one command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => serve(&cli.data, &cli.config_path(), args),
        Command::User(cmd) => {
            // Before opening anything: a bad name should not create a data directory.
            if let Some(name) = cmd.name() {
                user::validate_name(name)?;
            }
            let store = open_store(&cli.data, matches!(cmd, UserCommand::Add { .. }))?;
            let stdin = std::io::stdin();
            user::run(&store, cmd, &mut stdin.lock(), &mut std::io::stdout().lock())?;
            if let UserCommand::Add { name, .. } = cmd {
                quota::apply_default(&store, &cli.config_path(), name)?;
            }
            Ok(())
        }
        Command::Address(cmd) => {
            address::run_address(&open_store(&cli.data, false)?, cmd, &mut std::io::stdout().lock())
        }
        Command::Domain(cmd) => address::run_domain(&open_store(&cli.data, false)?, cmd, &mut std::io::stdout().lock()),
        Command::Quota(cmd) => quota::run(&open_store(&cli.data, false)?, cmd, &mut std::io::stdout().lock()),
        Command::Sieve(cmd) => {
            let stdin = std::io::stdin();
            sieve::run(&cli.data, &cli.config_path(), cmd, &mut stdin.lock(), &mut std::io::stdout().lock())
        }
        Command::Metadata(cmd) => metadata::run(&open_store(&cli.data, false)?, cmd, &mut std::io::stdout().lock()),
        Command::Index(cmd) => index::run(&open_store(&cli.data, false)?, cmd, &mut std::io::stdout().lock()),
        Command::Worker => crate::workers::run_worker(&cli.data),
        Command::Deliver(args) => {
            let stdin = std::io::stdin();
            deliver::run(&cli.data, &cli.config_path(), &args.to, &args.from, &args.mailbox, &mut stdin.lock())?;
            Ok(())
        }
    }
}

/// Opens the store of `data_dir`. Unless `create`, the directory must exist
/// already, so that a mistyped `--data` does not silently create an empty one.
pub fn open_store(data_dir: &Path, create: bool) -> anyhow::Result<store::Store> {
    if !create && !data_dir.is_dir() {
        anyhow::bail!("cannot open data directory {}: it does not exist", data_dir.display());
    }
    store::Store::open(data_dir).with_context(|| format!("cannot open data directory {}", data_dir.display()))
}

/// The `serve` command: everything up to handing the listeners to
/// [`crate::imap::serve`].
pub fn serve(data_dir: &Path, config_path: &Path, args: &ServeArgs) -> anyhow::Result<()> {
    let config = prepare_config(data_dir, config_path, args)?;
    let store = open_store(data_dir, true)?;
    if let Some(password) = ensure_first_account(&store)? {
        let limits = config.quota.default_limits();
        if !limits.is_unlimited() {
            store.set_quota("postmaster", limits).context("cannot set the default quota of postmaster")?;
        }
        println!("postmaster password: {password}");
    }
    let (tls, fingerprint) = crate::tls::load_or_generate(&config.tls, data_dir).context("cannot set up TLS")?;
    println!("TLS certificate SHA-256 fingerprint: {fingerprint}");
    if config.server.workers > 1 {
        drop(store);
        return crate::workers::supervise(data_dir, config);
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(crate::imap::serve(config, store, tls))
}

/// Loads (writing on first start) the configuration and applies the `serve` flags.
pub fn prepare_config(data_dir: &Path, config_path: &Path, args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = Config::load_or_init(data_dir, config_path)?;
    args.apply(&mut config);
    config.validate().context("invalid serve flags")?;
    if config.listen.imap.is_none() && config.listen.imaps.is_none() {
        anyhow::bail!("every IMAP listener is disabled (listen.imap and listen.imaps are both \"none\")");
    }
    Ok(config)
}

impl ServeArgs {
    /// Command-line flags win over the configuration file.
    pub fn apply(&self, config: &mut Config) {
        if let Some(ListenAddr(a)) = self.imap {
            config.listen.imap = a;
        }
        if let Some(ListenAddr(a)) = self.imaps {
            config.listen.imaps = a;
        }
        if let Some(ListenAddr(a)) = self.lmtp {
            config.listen.lmtp = a;
        }
        if let Some(ListenAddr(a)) = self.managesieve {
            config.listen.managesieve = a;
        }
        if let Some(p) = &self.lmtp_socket {
            config.listen.lmtp_socket = Some(p.clone());
        }
        if let Some(n) = self.workers {
            config.server.workers = n;
        }
    }
}

/// Creates `postmaster` with a random password when no account exists, and
/// returns that password (to be shown once).
pub fn ensure_first_account(store: &store::Store) -> anyhow::Result<Option<String>> {
    if !store.list_accounts().context("cannot list accounts")?.is_empty() {
        return Ok(None);
    }
    let password = crate::auth::generate_password();
    store
        .create_account("postmaster", &crate::auth::hash_password(&password))
        .context("cannot create the postmaster account")?;
    tracing::info!("created account postmaster");
    Ok(Some(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_shape() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
        let cli =
            Cli::try_parse_from(["postfach", "--data", "/d", "serve", "--imap", "none", "--imaps", "0.0.0.0:993"])
                .unwrap();
        assert_eq!(cli.config_path(), Path::new("/d/postfach.toml"));
        let Command::Serve(args) = cli.command else { panic!() };
        assert_eq!(args.imap, Some(ListenAddr(None)));
        assert_eq!(args.imaps, Some(ListenAddr(Some("0.0.0.0:993".parse().unwrap()))));
        assert!(Cli::try_parse_from(["postfach", "serve", "--imap", "nowhere"]).is_err());
        let cli =
            Cli::try_parse_from(["postfach", "user", "add", "bob", "--password-stdin", "--config", "/c.toml"]).unwrap();
        assert_eq!(cli.config_path(), Path::new("/c.toml"));
        assert!(matches!(cli.command, Command::User(UserCommand::Add { password_stdin: true, .. })));
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "[listen]\nimap = \"127.0.0.1:2143\"\nimaps = \"none\"\n").unwrap();
        let c = prepare_config(dir.path(), &path, &ServeArgs::default()).unwrap();
        assert_eq!(c.listen.imap, Some("127.0.0.1:2143".parse().unwrap()));
        assert_eq!(c.listen.imaps, None);
        let args = ServeArgs {
            imaps: Some(ListenAddr(Some("127.0.0.1:2993".parse().unwrap()))),
            lmtp: Some(ListenAddr(None)),
            ..ServeArgs::default()
        };
        let c = prepare_config(dir.path(), &path, &args).unwrap();
        assert_eq!(c.listen.imaps, Some("127.0.0.1:2993".parse().unwrap()));
        assert_eq!(c.listen.lmtp, None);
        let args = ServeArgs { imap: Some(ListenAddr(None)), ..ServeArgs::default() };
        let err = prepare_config(dir.path(), &path, &args).unwrap_err();
        assert!(err.to_string().contains("every IMAP listener is disabled"));
        let args = ServeArgs { workers: Some(3), ..ServeArgs::default() };
        assert_eq!(prepare_config(dir.path(), &path, &args).unwrap().server.workers, 3);
        let args = ServeArgs { workers: Some(0), ..ServeArgs::default() };
        assert!(format!("{:#}", prepare_config(dir.path(), &path, &args).unwrap_err()).contains("server.workers"));
    }
}
