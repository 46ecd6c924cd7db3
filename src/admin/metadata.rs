//! `postfach metadata set|unset|list`: the server-wide `/shared` METADATA
//! entries (RFC 5464 §3.2.1.1) every user reads with `GETMETADATA ""`, e.g.
//! `/shared/comment` or Delta Chat's `/shared/vendor/deltachat/irohrelay`.
//! They live in the directory and apply to a running server at once (its
//! NOTIFY sessions are told through `DATA/run/notify.d/`);
//! `/shared/admin` comes from `[metadata] admin` in the config instead.

use std::io::Write;

use anyhow::{bail, Context as _};
use store::account::metadata::Depth;

use super::MetadataCommand;

/// Checks an entry name an administrator may set.
fn check(entry: &str) -> anyhow::Result<()> {
    imap_proto::check_metadata_entry(entry, false).map_err(anyhow::Error::msg)?;
    if !entry.to_ascii_lowercase().starts_with("/shared/") {
        bail!("server entries set here start with /shared/ (/private/ entries belong to each user)");
    }
    if entry.eq_ignore_ascii_case("/shared/admin") {
        bail!("/shared/admin is set with `admin` in the [metadata] section of the config");
    }
    Ok(())
}

pub fn run(store: &store::Store, cmd: &MetadataCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        MetadataCommand::Set { entry, value } => {
            check(entry)?;
            if store.set_server_metadata(entry, Some(value.as_bytes())).context("cannot set the entry")? {
                crate::notify::send_server_metadata(store.data_dir(), entry);
            }
            writeln!(out, "{}: set", entry.to_ascii_lowercase())?;
        }
        MetadataCommand::Unset { entry } => {
            check(entry)?;
            let removed = store.set_server_metadata(entry, None).context("cannot remove the entry")?;
            if removed {
                crate::notify::send_server_metadata(store.data_dir(), entry);
            }
            writeln!(out, "{}: {}", entry.to_ascii_lowercase(), if removed { "removed" } else { "was not set" })?;
        }
        MetadataCommand::List => {
            for (entry, value) in store.server_metadata(&["/shared".into()], Depth::Infinity)? {
                writeln!(out, "{entry} {}", String::from_utf8_lossy(&value))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_list_unset() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(dir.path()).unwrap();
        let mut out = Vec::new();
        let set = MetadataCommand::Set { entry: "/shared/Comment".into(), value: "Welcome".into() };
        run(&store, &set, &mut out).unwrap();
        run(&store, &MetadataCommand::List, &mut out).unwrap();
        run(&store, &MetadataCommand::Unset { entry: "/shared/comment".into() }, &mut out).unwrap();
        run(&store, &MetadataCommand::List, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "/shared/comment: set\n/shared/comment Welcome\n/shared/comment: removed\n"
        );
        for bad in ["/private/x", "/shared/admin", "/shared", "/shared//x", "comment"] {
            let cmd = MetadataCommand::Set { entry: bad.into(), value: "x".into() };
            assert!(run(&store, &cmd, &mut Vec::new()).is_err(), "{bad}");
        }
    }
}
