//! Passwords and SASL (DESIGN.md §5): Argon2id hashes in PHC string format,
//! login checks against the store, and the SASL PLAIN message (RFC 4616).
//!
//! Credentials never reach logs: a password held in a struct is a [`Password`],
//! whose `Debug` prints `Password(/* REDACTED */)`.

use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng as _;

/// Length of passwords made by [`generate_password`]: 20 characters from 62
/// give about 119 bits.
pub const GENERATED_PASSWORD_LEN: usize = 20;

/// A password (or any other credential) that does not print itself.
/// Dereferences to `&str`, so it can be passed wherever a `&str` is taken.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    /// The password itself; name the call so it is easy to audit.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(/* REDACTED */)")
    }
}

impl std::ops::Deref for Password {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Password {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Password {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<String> for Password {
    fn from(s: String) -> Password {
        Password(s)
    }
}

/// Hashes a password with Argon2id (the crate's default parameters: 19 MiB,
/// 2 passes, 1 lane — OWASP's minimum) and a random 16-byte salt. Returns the
/// PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(password: &str) -> String {
    let salt_bytes: [u8; 16] = rand::rngs::OsRng.gen();
    let salt = SaltString::encode_b64(&salt_bytes).expect("16 bytes is a valid salt length");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters and a valid salt cannot fail")
        .to_string()
}

/// Checks a password against a stored hash. A hash that cannot be parsed (or
/// an algorithm we do not know) is a failed check, never a panic. Accepts the
/// PHC string alone or with Dovecot's `{ARGON2ID}`/`{ARGON2I}` scheme prefix.
pub fn verify_password(hash: &str, password: &str) -> bool {
    let hash = strip_scheme(hash);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

fn strip_scheme(hash: &str) -> &str {
    for prefix in ["{ARGON2ID}", "{ARGON2I}", "{ARGON2}"] {
        // `get` rather than indexing: the hash may hold multi-byte characters.
        if let Some(head) = hash.get(..prefix.len()) {
            if head.eq_ignore_ascii_case(prefix) {
                return &hash[prefix.len()..];
            }
        }
    }
    hash
}

/// A random password of [`GENERATED_PASSWORD_LEN`] ASCII letters and digits,
/// from the operating system's random source.
pub fn generate_password() -> String {
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(GENERATED_PASSWORD_LEN)
        .map(char::from)
        .collect()
}

/// Checks a login. Returns the account only when the user exists and the
/// password matches. When the user does not exist (or the store fails), a
/// dummy hash is still verified so that the answer takes about as long and
/// does not reveal which accounts exist.
///
/// This hashes (tens of milliseconds of CPU): call it from a blocking task.
pub fn authenticate(store: &store::Store, user: &str, password: &str) -> Option<store::AccountId> {
    let found = match store.password_hash(user) {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "cannot read password hash");
            None
        }
    };
    match found {
        Some((id, hash)) => verify_password(&hash, password).then_some(id),
        None => {
            let _ = verify_password(dummy_hash(), password);
            None
        }
    }
}

/// [`authenticate`] on the hashing pool, for async callers.
///
/// Argon2id needs 19 MiB per hash. Run on tokio's blocking pool, a burst of
/// logins would hash on hundreds of threads at once, and every thread's malloc
/// arena keeps its 19 MiB afterwards (measured: 18 MiB per connection held
/// after 1 000 IDLE logins, bench/RESULTS.md). A fixed pool of one thread per
/// core bounds that memory to a few arenas, and bounds the CPU that logins can
/// take from mailbox commands.
pub async fn authenticate_async(store: &store::Store, user: &str, password: &str) -> Option<store::AccountId> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (store, user, password) = (store.clone(), user.to_string(), Password::new(password));
    let job: HashJob = Box::new(move || {
        let _ = tx.send(authenticate(&store, &user, password.as_str()));
    });
    if hash_pool().send(job).is_err() {
        return None;
    }
    rx.await.ok().flatten()
}

type HashJob = Box<dyn FnOnce() + Send>;

/// The queue of the hashing threads, started on first use.
fn hash_pool() -> &'static std::sync::mpsc::Sender<HashJob> {
    static POOL: OnceLock<std::sync::mpsc::Sender<HashJob>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || loop {
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(poisoned) => poisoned.into_inner().recv(),
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        tx
    })
}

/// A hash of a random password with the same parameters as real ones,
/// computed once.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&generate_password()))
}

/// Decodes a SASL PLAIN message (RFC 4616 §2):
///
/// ```text
/// message   = [authzid] UTF8NUL authcid UTF8NUL passwd
/// authcid   = 1*SAFE ; MUST accept up to 255 octets
/// passwd    = 1*SAFE ; MUST accept up to 255 octets
/// ```
///
/// `resp` is the already base64-decoded client response. Returns
/// `(authzid, authcid, password)`; `None` when the message is malformed (not
/// exactly two NULs, empty authcid or password, not UTF-8, a field longer
/// than 1024 octets). An authzid other than the authcid is well-formed: the
/// caller refuses it as an authorization failure (RFC 4616 §2), not a syntax
/// error.
pub fn decode_plain(resp: &[u8]) -> Option<(String, String, Password)> {
    /// Generous upper bound: RFC 4616 requires accepting 255 octets.
    const MAX_FIELD: usize = 1024;
    let mut parts = resp.split(|&b| b == 0);
    let authzid = parts.next()?;
    let authcid = parts.next()?;
    let passwd = parts.next()?;
    if parts.next().is_some() || authcid.is_empty() || passwd.is_empty() {
        return None;
    }
    if authzid.len() > MAX_FIELD || authcid.len() > MAX_FIELD || passwd.len() > MAX_FIELD {
        return None;
    }
    let authzid = std::str::from_utf8(authzid).ok()?;
    let authcid = std::str::from_utf8(authcid).ok()?;
    let passwd = std::str::from_utf8(passwd).ok()?;
    Some((authzid.to_owned(), authcid.to_owned(), Password::new(passwd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verify_round_trip() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(verify_password(&format!("{{ARGON2ID}}{h}"), "correct horse"));
        // Salted: the same password hashes differently.
        assert_ne!(h, hash_password("correct horse"));
    }

    #[test]
    fn wrong_password_fails() {
        let h = hash_password("correct horse");
        assert!(!verify_password(&h, "correct horsE"));
        assert!(!verify_password(&h, ""));
    }

    #[test]
    fn malformed_hash_is_false_not_panic() {
        for bad in [
            "",
            "$",
            "$$$$",
            "plaintext",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$",
            "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHQ$aGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$!!!",
            "$2y$10$abcdefghijklmnopqrstuv",
            "{ARGON2ID}",
            "{ARG",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        ] {
            assert!(!verify_password(bad, "x"), "{bad:?}");
        }
    }

    #[test]
    fn generated_passwords_are_random_alphanumerics() {
        let a = generate_password();
        assert_eq!(a.len(), GENERATED_PASSWORD_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, generate_password());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::new("hunter2");
        let shown = format!("{p:?} {:?}", Some((1, p.clone())));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(p, "hunter2");
        assert_eq!(&*p, "hunter2");
    }

    #[test]
    fn plain_decoding() {
        let (z, c, p) = decode_plain(b"\0tim\0tanstaaftanstaaf").unwrap();
        assert_eq!((z.as_str(), c.as_str(), p.as_str()), ("", "tim", "tanstaaftanstaaf"));
        let (z, c, _) = decode_plain(b"other\0tim\0pw").unwrap();
        assert_eq!((z.as_str(), c.as_str()), ("other", "tim"), "well-formed; authorization is the caller's");
        let (z, c, p) = decode_plain(b"tim\0tim\0pw").unwrap();
        assert_eq!((z.as_str(), c.as_str(), p.as_str()), ("tim", "tim", "pw"));
        let (_, c, p) = decode_plain("\0j\u{f6}rg\0p\u{e4}ss".as_bytes()).unwrap();
        assert_eq!((c.as_str(), p.as_str()), ("j\u{f6}rg", "p\u{e4}ss"));
    }

    #[test]
    fn plain_rejects_bad_input() {
        let long = [b"\0u\0".as_slice(), &[b'x'; 2000]].concat();
        for bad in [
            b"".as_slice(),
            b"\0",
            b"\0\0",
            b"\0tim\0",         // empty password
            b"\0\0pw",          // empty authcid
            b"tim\0pw",         // one NUL
            b"\0tim\0pw\0",     // three NULs
            b"\0tim\0pw\0more", // three NULs
            b"\0t\xffm\0pw",    // not UTF-8
            b"\0tim\0p\xc3",    // truncated UTF-8
            &long,
        ] {
            assert!(decode_plain(bad).is_none(), "{bad:?}");
        }
    }
}
