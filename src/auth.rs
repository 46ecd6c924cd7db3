//! Passwords and SASL (DESIGN.md §5): Argon2id hashes in PHC string format,
//! login checks against the store, and the SASL PLAIN message (RFC 4616).
//!
//! Credentials never reach logs: a password held in a struct is a [`Password`],
//! whose `Debug` prints `Password(/* REDACTED */)`.
//!
//! ## Credential cache
//!
//! An Argon2id check costs tens of milliseconds of CPU and 19 MiB; mail clients
//! log in again and again with the same password (one connection per folder,
//! reconnects after sleep). Like Dovecot's `auth_cache`, [`AuthCache`] keeps,
//! for `auth.cache_ttl` seconds after a successful check, the user, the stored
//! hash it was checked against, and HMAC-SHA256 of the password under a key
//! drawn at random when the process starts. A later login with the same
//! password while the stored hash is unchanged is accepted by comparing MACs
//! (constant time) without running Argon2. Failed checks are never cached: a
//! wrong password always pays the full Argon2 price, so the cache offers no
//! fast way to guess. A password change (`postfach user passwd` while the server
//! runs) changes the stored hash, which is read on every login, so the entry no
//! longer matches. The trade-off: for up to `cache_ttl` seconds after a user
//! logged in, the process memory holds a keyed MAC of the password, which lets
//! someone able to read that memory (and thus the key) test guesses at SHA-256
//! speed instead of Argon2 speed. `cache_ttl = 0` turns the cache off.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

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

/// Entries the credential cache holds at most; the oldest go first.
pub const AUTH_CACHE_MAX_ENTRIES: usize = 10_000;

/// Successful logins remembered for a while (see the module docs).
pub struct AuthCache {
    ttl: Duration,
    key: [u8; 32],
    entries: Mutex<HashMap<String, CacheEntry>>,
}

struct CacheEntry {
    account: store::AccountId,
    /// The stored hash the password was verified against.
    hash: String,
    mac: [u8; 32],
    at: Instant,
}

impl AuthCache {
    /// A cache keeping successes for `ttl` (zero: nothing is cached).
    pub fn new(ttl: Duration) -> AuthCache {
        AuthCache { ttl, key: rand::rngs::OsRng.gen(), entries: Mutex::new(HashMap::new()) }
    }

    fn mac(&self, user: &str, password: &str) -> [u8; 32] {
        // The user is part of the message, so equal passwords of two users
        // give different MACs.
        let mut msg = Vec::with_capacity(user.len() + password.len() + 1);
        msg.extend_from_slice(user.as_bytes());
        msg.push(0);
        msg.extend_from_slice(password.as_bytes());
        let mac = hmac_sha256(&self.key, &msg);
        msg.iter_mut().for_each(|b| *b = 0);
        mac
    }

    /// Whether `password` was verified for `user` against exactly `hash`
    /// within the TTL.
    fn hit(&self, user: &str, account: store::AccountId, hash: &str, password: &str) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let mac = self.mac(user, password);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(user).is_some_and(|e| {
            e.account == account && e.hash == hash && e.at.elapsed() < self.ttl && constant_time_eq(&e.mac, &mac)
        })
    }

    fn insert(&self, user: &str, account: store::AccountId, hash: &str, password: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let entry = CacheEntry { account, hash: hash.to_string(), mac: self.mac(user, password), at: Instant::now() };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= AUTH_CACHE_MAX_ENTRIES && !entries.contains_key(user) {
            let ttl = self.ttl;
            entries.retain(|_, e| e.at.elapsed() < ttl);
            if entries.len() >= AUTH_CACHE_MAX_ENTRIES {
                if let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone()) {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(user.to_string(), entry);
    }

    /// Entries held (expired ones included until they are replaced or pruned).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// HMAC-SHA256 (RFC 2104) with a 32-byte key.
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new().chain_update(ipad).chain_update(msg).finalize();
    Sha256::new().chain_update(opad).chain_update(inner).finalize().into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// [`authenticate`] on the hashing pool, for async callers, through the
/// credential cache: a success within the TTL against the same stored hash is
/// answered at once; everything else (every failure included) runs Argon2 on
/// the pool.
///
/// Argon2id needs 19 MiB per hash. Run on tokio's blocking pool, a burst of
/// logins would hash on hundreds of threads at once, and every thread's malloc
/// arena keeps its 19 MiB afterwards (measured: 18 MiB per connection held
/// after 1 000 IDLE logins, bench/RESULTS.md). A fixed pool of one thread per
/// core bounds that memory to a few arenas, and bounds the CPU that logins can
/// take from mailbox commands.
pub async fn authenticate_async(
    store: &store::Store,
    cache: &std::sync::Arc<AuthCache>,
    user: &str,
    password: &str,
) -> Option<store::AccountId> {
    let lookup = {
        let (store, user) = (store.clone(), user.to_string());
        tokio::task::spawn_blocking(move || store.password_hash(&user)).await
    };
    let found = match lookup {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read password hash");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "password lookup task failed");
            None
        }
    };
    if let Some((id, hash)) = &found {
        if cache.hit(user, *id, hash, password) {
            return Some(*id);
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (cache, user, password) = (cache.clone(), user.to_string(), Password::new(password));
    let job: HashJob = Box::new(move || {
        let id = match found {
            Some((id, hash)) => {
                let ok = verify_password(&hash, password.as_str());
                if ok {
                    cache.insert(&user, id, &hash, password.as_str());
                }
                ok.then_some(id)
            }
            // As in [`authenticate`]: an unknown user costs the same.
            None => {
                let _ = verify_password(dummy_hash(), password.as_str());
                None
            }
        };
        let _ = tx.send(id);
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
    fn hmac_sha256_known_answer_rfc4231_case_2() {
        // Key "Jefe": shorter keys are zero-padded (RFC 2104 §2), so padding
        // it to 32 bytes gives the same MAC.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac_sha256(&key, b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn auth_cache_hits_only_the_same_password_against_the_same_hash() {
        let cache = AuthCache::new(Duration::from_secs(60));
        let id = store::AccountId(7);
        assert!(!cache.hit("tim", id, "H1", "pw"), "empty cache");
        cache.insert("tim", id, "H1", "pw");
        assert!(cache.hit("tim", id, "H1", "pw"));
        assert!(!cache.hit("tim", id, "H1", "pW"), "a wrong password never hits");
        assert!(!cache.hit("tim", id, "H2", "pw"), "a changed stored hash never hits");
        assert!(!cache.hit("tom", id, "H1", "pw"), "another user");
        assert!(!cache.hit("tim", store::AccountId(8), "H1", "pw"), "a recreated account");
        // Another process's key gives other MACs.
        assert_ne!(cache.mac("tim", "pw"), AuthCache::new(Duration::from_secs(60)).mac("tim", "pw"));
    }

    #[test]
    fn auth_cache_ttl_zero_disables_and_entries_expire() {
        let off = AuthCache::new(Duration::ZERO);
        off.insert("tim", store::AccountId(1), "H", "pw");
        assert!(off.is_empty());
        assert!(!off.hit("tim", store::AccountId(1), "H", "pw"));
        let short = AuthCache::new(Duration::from_millis(30));
        short.insert("tim", store::AccountId(1), "H", "pw");
        assert!(short.hit("tim", store::AccountId(1), "H", "pw"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!short.hit("tim", store::AccountId(1), "H", "pw"), "expired");
    }

    #[test]
    fn auth_cache_is_bounded() {
        let cache = AuthCache::new(Duration::from_secs(60));
        for i in 0..AUTH_CACHE_MAX_ENTRIES + 10 {
            cache.insert(&format!("u{i}"), store::AccountId(i as i64), "H", "pw");
        }
        assert_eq!(cache.len(), AUTH_CACHE_MAX_ENTRIES);
        let last = AUTH_CACHE_MAX_ENTRIES + 9;
        assert!(cache.hit(&format!("u{last}"), store::AccountId(last as i64), "H", "pw"));
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
