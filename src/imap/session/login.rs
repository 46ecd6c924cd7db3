//! LOGIN, and the step every successful authentication ends with.

use std::time::Duration;

use imap_proto::Code;

use super::{Done, Session, State};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.2.3 LOGIN: `login = "LOGIN" SP userid SP password`.
    /// Refused with `NO [PRIVACYREQUIRED]` while LOGINDISABLED applies.
    pub(super) async fn cmd_login(&mut self, user: &str, password: &str) -> Result<Done> {
        if self.login_disabled() {
            return Err(ImapError::no(Code::PrivacyRequired, "use STARTTLS before LOGIN"));
        }
        self.log_in(user, password).await
    }

    /// Checks credentials; on success enters the Authenticated state and
    /// subscribes to the account's change feed. Failures are slowed down and
    /// counted; too many end the connection.
    pub(super) async fn log_in(&mut self, user: &str, password: &str) -> Result<Done> {
        let id = crate::auth::authenticate_async(
            &self.shared.store,
            &self.shared.auth_cache,
            &user.to_ascii_lowercase(),
            password,
        )
        .await;
        let Some(id) = id else {
            self.auth_failures += 1;
            tracing::info!(user, failures = self.auth_failures, "authentication failed");
            tokio::time::sleep(Duration::from_millis(250 * u64::from(self.auth_failures.min(8)))).await;
            if self.auth_failures >= self.shared.config.limits.max_auth_failures {
                return Err(ImapError::Bye("too many failed authentications".into()));
            }
            return Err(ImapError::no(Code::AuthenticationFailed, "invalid credentials"));
        };
        let max = self.shared.config.limits.max_connections_per_account;
        let Some(slot) = self.shared.per_account.acquire(id, max).await else {
            return Err(ImapError::no(Code::Limit, "too many connections for this account; close some first"));
        };
        self.account_slot = Some(slot);
        let account = self.shared.store.account(id)?;
        self.feed = Some(account.subscribe());
        tracing::info!(user, "authenticated");
        self.state = State::Authenticated { account, user: user.to_ascii_lowercase() };
        let caps = self.capabilities();
        Ok(Done::with_code(Code::Capability(caps), "authenticated"))
    }
}
