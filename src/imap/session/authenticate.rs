//! AUTHENTICATE with the PLAIN and LOGIN mechanisms, with SASL-IR.

use imap_proto::{parser, Code, Response};

use super::{Done, Session};
use crate::imap::connection::LineRead;
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.2.2 AUTHENTICATE; RFC 4959 (SASL-IR); RFC 4616 (PLAIN);
    /// LOGIN as draft-murchison-sasl-login. `*` from the client cancels with
    /// a tagged BAD (RFC 9051 §6.2.2).
    pub(super) async fn cmd_authenticate(&mut self, mechanism: &str, initial: Option<Vec<u8>>) -> Result<Done> {
        if self.login_disabled() {
            return Err(ImapError::no(Code::PrivacyRequired, "use STARTTLS before AUTHENTICATE"));
        }
        match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let resp = match initial {
                    Some(r) => r,
                    None => self.sasl_step("").await?,
                };
                let (authz, user, password) =
                    crate::auth::decode_plain(&resp).ok_or_else(|| ImapError::bad("malformed PLAIN response"))?;
                if !authz.is_empty() && !authz.eq_ignore_ascii_case(&user) {
                    return Err(ImapError::no(Code::AuthorizationFailed, "cannot act as another user"));
                }
                self.log_in(&user, &password).await
            }
            "LOGIN" => {
                let user = match initial {
                    Some(r) => r,
                    None => self.sasl_step("VXNlcm5hbWU6").await?,
                };
                let password = self.sasl_step("UGFzc3dvcmQ6").await?;
                let user = String::from_utf8(user).map_err(|_| ImapError::bad("user name is not UTF-8"))?;
                let password = String::from_utf8(password).map_err(|_| ImapError::bad("password is not UTF-8"))?;
                self.log_in(&user, &password).await
            }
            _ => Err(ImapError::no(Code::Cannot, format!("unsupported mechanism {mechanism}"))),
        }
    }

    /// Sends a `+` challenge and reads the client's base64 answer.
    async fn sasl_step(&mut self, challenge: &str) -> Result<Vec<u8>> {
        self.write(&Response::Continue { text: challenge.into() });
        self.conn.flush().await?;
        let mut line = Vec::new();
        let max = self.shared.config.limits.max_line_length;
        match self.conn.read_line(&mut line, max).await? {
            LineRead::Line => {}
            LineRead::TooLong => return Err(ImapError::bad("SASL response too long")),
            LineRead::Eof => return Err(ImapError::Bye("connection closed during authentication".into())),
        }
        match parser::parse_sasl_response(&line) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(ImapError::bad("authentication cancelled")),
            Err(e) => Err(ImapError::bad(e.message)),
        }
    }
}
