//! `postfach address add|list|del` and `postfach domain add|list|del`: where
//! mail is delivered (DESIGN.md §4). Like `user`, these work while the server
//! runs: every RCPT reads the directory afresh.

use std::io::Write;

use anyhow::Context as _;

use super::{AddressCommand, DomainCommand};

pub fn run_address(store: &store::Store, cmd: &AddressCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        AddressCommand::Add { address, user } => {
            store.add_address(address, user).with_context(|| format!("cannot add address {address}"))?;
            writeln!(out, "{} → {user}", address.to_lowercase())?;
        }
        AddressCommand::List => {
            for a in store.list_addresses().context("cannot list addresses")? {
                writeln!(out, "{} {}", a.address, a.account)?;
            }
        }
        AddressCommand::Del { address } => {
            store.delete_address(address).with_context(|| format!("cannot delete address {address}"))?;
            writeln!(out, "deleted address {}", address.to_lowercase())?;
        }
    }
    Ok(())
}

pub fn run_domain(store: &store::Store, cmd: &DomainCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        DomainCommand::Add { name } => {
            store.add_domain(name).with_context(|| format!("cannot add domain {name}"))?;
            writeln!(out, "added domain {}", name.to_lowercase())?;
        }
        DomainCommand::List => {
            for d in store.list_domains().context("cannot list domains")? {
                writeln!(out, "{d}")?;
            }
        }
        DomainCommand::Del { name } => {
            store.delete_domain(name).with_context(|| format!("cannot delete domain {name}"))?;
            writeln!(out, "deleted domain {}", name.to_lowercase())?;
        }
    }
    Ok(())
}
