//! TLS server configuration (DESIGN.md §5): rustls with the ring provider,
//! TLS 1.2 and 1.3, ALPN `imap` (RFC 9051 §7.1 / the IANA ALPN registry).
//!
//! The certificate is either configured (`[tls] cert`/`key`, PEM) or, by
//! default, `DATA/tls/cert.pem` + `DATA/tls/key.pem`, which are generated
//! self-signed on first start. Either way its SHA-256 fingerprint is returned
//! so that `serve` can print it for clients to pin.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};

/// ALPN protocol id for IMAP (IANA "TLS Application-Layer Protocol Negotiation
/// (ALPN) Protocol IDs": `imap`, RFC 9051).
pub const ALPN_IMAP: &[u8] = b"imap";

/// Builds the server's TLS configuration. Returns it with the SHA-256
/// fingerprint of the leaf certificate (`AB:CD:…`, upper-case hex).
pub fn load_or_generate(
    cfg: &crate::config::Tls,
    data_dir: &Path,
) -> anyhow::Result<(Arc<rustls::ServerConfig>, String)> {
    let (cert_path, key_path) = match (&cfg.cert, &cfg.key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        (None, None) => {
            let (cert, key) = default_paths(data_dir);
            generate_if_missing(&cert, &key)?;
            (cert, key)
        }
        _ => anyhow::bail!("tls.cert and tls.key must be set together"),
    };
    let (certs, key) = load_pem(&cert_path, &key_path)?;
    let fingerprint = fingerprint(&certs[0]);
    let config = server_config(certs, key)
        .with_context(|| format!("certificate {} does not fit key {}", cert_path.display(), key_path.display()))?;
    Ok((config, fingerprint))
}

/// `DATA/tls/cert.pem` and `DATA/tls/key.pem`.
pub fn default_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// The SHA-256 of a certificate's DER encoding, as colon-separated upper-case hex.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = Sha256::digest(cert.as_ref());
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// Reads a PEM certificate chain (leaf first) and its private key.
pub fn load_pem(
    cert_path: &Path,
    key_path: &Path,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read TLS certificate {}", cert_path.display()))?;
    if certs.is_empty() {
        anyhow::bail!("no certificate found in {}", cert_path.display());
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read TLS private key {}", key_path.display()))?;
    Ok((certs, key))
}

/// The rustls configuration for a certificate chain and key: ring provider,
/// TLS 1.2 + 1.3, no client certificates, ALPN `imap`.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![ALPN_IMAP.to_vec()];
    Ok(Arc::new(config))
}

/// Generates a self-signed certificate at `cert`/`key` unless both exist.
/// Exactly one of them existing is an error: overwriting the other could
/// destroy an operator's key.
fn generate_if_missing(cert: &Path, key: &Path) -> anyhow::Result<()> {
    match (cert.exists(), key.exists()) {
        (true, true) => return Ok(()),
        (false, false) => {}
        (true, false) => anyhow::bail!(
            "{} exists but {} does not; remove the one or restore the other",
            cert.display(),
            key.display()
        ),
        (false, true) => anyhow::bail!(
            "{} exists but {} does not; remove the one or restore the other",
            key.display(),
            cert.display()
        ),
    }
    let (cert_pem, key_pem) = self_signed(&subject_alt_names())?;
    if let Some(dir) = cert.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_private(key, key_pem.as_bytes())
        .with_context(|| format!("cannot write TLS private key {}", key.display()))?;
    fs::write(cert, cert_pem).with_context(|| format!("cannot write TLS certificate {}", cert.display()))?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
    Ok(())
}

/// A self-signed certificate for `names` (DNS names or IP addresses): `(cert PEM, key PEM)`.
pub fn self_signed(names: &[String]) -> anyhow::Result<(String, String)> {
    let key_pair = rcgen::KeyPair::generate().context("cannot generate a TLS key")?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).context("invalid certificate name")?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, names.first().map(String::as_str).unwrap_or("postfach"));
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "postfach self-signed");
    let cert = params.self_signed(&key_pair).context("cannot sign the TLS certificate")?;
    Ok((cert.pem(), key_pair.serialize_pem()))
}

/// localhost, 127.0.0.1, ::1 and the machine's host name (when it has one
/// that is a valid DNS name).
pub fn subject_alt_names() -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    if let Some(host) = hostname() {
        if !names.contains(&host) {
            names.insert(0, host);
        }
    }
    names
}

/// The host name from the kernel (Linux) or `/etc/hostname`, lower-cased;
/// `None` when unknown or not a plausible DNS name.
fn hostname() -> Option<String> {
    let raw = ["/proc/sys/kernel/hostname", "/etc/hostname"].iter().find_map(|p| fs::read_to_string(p).ok())?;
    let name = raw.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    valid.then_some(name)
}

/// Writes a file readable only by its owner (mode 0600 on Unix).
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Tls;

    #[test]
    fn generates_once_and_reloads_with_same_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let (config, fp1) = load_or_generate(&Tls::default(), dir.path()).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"imap".to_vec()]);
        assert_eq!(fp1.len(), 32 * 3 - 1);
        assert!(fp1
            .split(':')
            .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())));
        let (cert, key) = default_paths(dir.path());
        assert!(cert.exists() && key.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (_, fp2) = load_or_generate(&Tls::default(), dir.path()).unwrap();
        assert_eq!(fp1, fp2);
    }

    #[test]
    fn generated_certificate_names_localhost() {
        let names = subject_alt_names();
        for n in ["localhost", "127.0.0.1", "::1"] {
            assert!(names.iter().any(|x| x == n));
        }
    }

    #[test]
    fn configured_pem_files_load() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_pem, key_pem) = self_signed(&["mail.example.org".to_owned()]).unwrap();
        let cert = dir.path().join("fullchain.pem");
        let key = dir.path().join("privkey.pem");
        fs::write(&cert, &cert_pem).unwrap();
        fs::write(&key, &key_pem).unwrap();
        let cfg = Tls { cert: Some(cert.clone()), key: Some(key) };
        let data = dir.path().join("data");
        let (_, fp) = load_or_generate(&cfg, &data).unwrap();
        let der = CertificateDer::from_pem_file(&cert).unwrap();
        assert_eq!(fp, fingerprint(&der));
        // Nothing generated when a certificate is configured.
        assert!(!default_paths(&data).0.exists());
    }

    #[test]
    fn missing_file_gives_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Tls { cert: Some(dir.path().join("nope.pem")), key: Some(dir.path().join("nokey.pem")) };
        let msg = format!("{:#}", load_or_generate(&cfg, dir.path()).unwrap_err());
        assert!(msg.contains("cannot read TLS certificate") && msg.contains("nope.pem"), "{msg}");

        let (cert_pem, _) = self_signed(&["a.example".to_owned()]).unwrap();
        let cert = dir.path().join("c.pem");
        fs::write(&cert, cert_pem).unwrap();
        let cfg = Tls { cert: Some(cert), key: Some(dir.path().join("nokey.pem")) };
        let msg = format!("{:#}", load_or_generate(&cfg, dir.path()).unwrap_err());
        assert!(msg.contains("cannot read TLS private key") && msg.contains("nokey.pem"), "{msg}");
    }

    #[test]
    fn empty_or_mismatched_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_a, _) = self_signed(&["a.example".to_owned()]).unwrap();
        let (_, key_b) = self_signed(&["b.example".to_owned()]).unwrap();
        let empty = dir.path().join("empty.pem");
        let cert = dir.path().join("a.pem");
        let key = dir.path().join("b.key");
        fs::write(&empty, "").unwrap();
        fs::write(&cert, cert_a).unwrap();
        fs::write(&key, key_b).unwrap();
        let msg = format!(
            "{:#}",
            load_or_generate(&Tls { cert: Some(empty), key: Some(key.clone()) }, dir.path()).unwrap_err()
        );
        assert!(msg.contains("no certificate found"), "{msg}");
        let msg = format!("{:#}", load_or_generate(&Tls { cert: Some(cert), key: Some(key) }, dir.path()).unwrap_err());
        assert!(msg.contains("does not fit"), "{msg}");
    }

    #[test]
    fn half_of_a_default_pair_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = default_paths(dir.path());
        fs::create_dir_all(cert.parent().unwrap()).unwrap();
        fs::write(&cert, "x").unwrap();
        let msg = format!("{:#}", load_or_generate(&Tls::default(), dir.path()).unwrap_err());
        assert!(msg.contains("key.pem"), "{msg}");
    }
}
