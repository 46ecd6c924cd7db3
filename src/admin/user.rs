//! `postfach user add|list|del|passwd`: accounts in the store's directory.
//!
//! Each command opens the store, does one thing and exits; the store reads
//! fresh from SQLite, so this works while `serve` runs (a changed password
//! applies at the next login).

use std::io::{BufRead, Write};

use anyhow::Context as _;

use super::UserCommand;
use crate::auth::{self, Password};

/// Longest account name.
pub const MAX_NAME_LEN: usize = 64;

/// Checks an account name: 1–64 characters of `a-z 0-9 . _ + - @`. Names are
/// lower-case because logins are matched case-insensitively; we reject rather
/// than fold so that what the operator typed is what is stored.
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() {
        anyhow::bail!("invalid account name: it is empty");
    }
    if name.len() > MAX_NAME_LEN {
        anyhow::bail!("invalid account name {name:?}: longer than {MAX_NAME_LEN} characters");
    }
    if name.chars().any(|c| c.is_uppercase()) {
        anyhow::bail!("invalid account name {name:?}: use lower case ({:?})", name.to_lowercase());
    }
    if let Some(c) = name.chars().find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '+' | '-' | '@')) {
        anyhow::bail!("invalid account name {name:?}: {c:?} is not allowed (use a-z, 0-9, '.', '_', '+', '-', '@')");
    }
    Ok(())
}

/// Runs one `user` command. Passwords come from `stdin` (with
/// `--password-stdin`); results and generated passwords go to `out`.
pub fn run(
    store: &store::Store,
    cmd: &UserCommand,
    stdin: &mut impl BufRead,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { name, password_stdin } => {
            validate_name(name)?;
            let (password, generated) = obtain_password(*password_stdin, stdin)?;
            store
                .create_account(name, &auth::hash_password(&password))
                .with_context(|| format!("cannot create account {name}"))?;
            if generated {
                writeln!(out, "{name} password: {}", password.as_str())?;
            } else {
                writeln!(out, "created account {name}")?;
            }
        }
        UserCommand::List => {
            let mut accounts = store.list_accounts().context("cannot list accounts")?;
            accounts.sort_by(|a, b| a.name.cmp(&b.name));
            for a in accounts {
                writeln!(out, "{}", a.name)?;
            }
        }
        UserCommand::Del { name } => {
            validate_name(name)?;
            store.delete_account(name).with_context(|| format!("cannot delete account {name}"))?;
            writeln!(out, "deleted account {name}")?;
        }
        UserCommand::Passwd { name, password_stdin } => {
            validate_name(name)?;
            // Check first, so that no password is read or printed for a typo.
            if store.password_hash(name).with_context(|| format!("cannot read account {name}"))?.is_none() {
                anyhow::bail!("cannot change password: account {name} does not exist");
            }
            let (password, generated) = obtain_password(*password_stdin, stdin)?;
            store
                .set_password_hash(name, &auth::hash_password(&password))
                .with_context(|| format!("cannot change the password of {name}"))?;
            if generated {
                writeln!(out, "{name} password: {}", password.as_str())?;
            } else {
                writeln!(out, "changed password of {name}")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Reads the password from stdin or generates one; the bool says "generated".
fn obtain_password(from_stdin: bool, stdin: &mut impl BufRead) -> anyhow::Result<(Password, bool)> {
    if from_stdin {
        Ok((read_password(stdin)?, false))
    } else {
        Ok((Password::new(auth::generate_password()), true))
    }
}

/// One line of `stdin` without its line ending. Empty is an error.
pub fn read_password(stdin: &mut impl BufRead) -> anyhow::Result<Password> {
    let mut line = String::new();
    stdin.read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        anyhow::bail!("no password on standard input (expected one line)");
    }
    Ok(Password::new(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["alice", "a", "bob.smith+tag@example.org", "x_y-z", &"a".repeat(64)] {
            validate_name(ok).unwrap();
        }
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("Alice", "lower case"),
            ("al ice", "' ' is not allowed"),
            ("al/ice", "'/' is not allowed"),
            ("äl", "not allowed"),
            (&"a".repeat(65), "longer than 64"),
        ];
        for (bad, why) in cases {
            let msg = validate_name(bad).unwrap_err().to_string();
            assert!(msg.contains("invalid account name") && msg.contains(why), "{bad:?}: {msg}");
        }
    }

    #[test]
    fn password_line() {
        assert_eq!(read_password(&mut &b"secret\n"[..]).unwrap(), "secret");
        assert_eq!(read_password(&mut &b"secret\r\nmore\n"[..]).unwrap(), "secret");
        assert_eq!(read_password(&mut &b"sp ace "[..]).unwrap(), "sp ace ");
        assert!(read_password(&mut &b""[..]).is_err());
        assert!(read_password(&mut &b"\n"[..]).is_err());
    }
}
