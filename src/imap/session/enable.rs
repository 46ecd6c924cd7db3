//! ENABLE.

use imap_proto::Data;

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.3.1; RFC 5161 §3.1 ENABLE: `enable = "ENABLE" 1*(SP capability)`.
    /// Unknown capabilities are ignored; the `ENABLED` response lists only
    /// those newly enabled.
    pub(super) fn cmd_enable(&mut self, caps: &[String]) -> Result<Done> {
        let mut enabled = Vec::new();
        for cap in caps {
            if cap.eq_ignore_ascii_case("IMAP4rev2") && !self.enabled.imap4rev2 {
                self.enabled.imap4rev2 = true;
                enabled.push("IMAP4rev2".to_string());
            }
        }
        self.data(Data::Enabled(enabled));
        Ok(Done::ok("ENABLE completed"))
    }
}
