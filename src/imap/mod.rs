//! PLACEHOLDER — replaced at merge by the IMAP engineer's `src/imap/`.
//! Only the entry point's signature is fixed here so that `serve` compiles.

/// Runs every configured IMAP listener until shutdown.
///
/// PLACEHOLDER: the real implementation lives on the IMAP branch.
pub async fn serve(
    config: crate::config::Config,
    store: store::Store,
    tls: std::sync::Arc<rustls::ServerConfig>,
) -> anyhow::Result<()> {
    let _ = (config, store, tls);
    anyhow::bail!("placeholder: the IMAP server is not part of this branch")
}
