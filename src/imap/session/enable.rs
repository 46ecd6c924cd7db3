//! ENABLE.

use imap_proto::Data;

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.3.1; RFC 5161 §3.1 ENABLE; RFC 7162 §3.1 (CONDSTORE),
    /// §3.2.3 (QRESYNC); RFC 6855 §3 (UTF8=ACCEPT): `enable = "ENABLE" 1*(SP capability)`.
    /// Unknown capabilities are ignored; the `ENABLED` response lists only
    /// those newly enabled.
    pub(super) fn cmd_enable(&mut self, caps: &[String]) -> Result<Done> {
        let mut enabled = Vec::new();
        for cap in caps {
            match cap.to_ascii_uppercase().as_str() {
                "IMAP4REV2" if !self.enabled.imap4rev2 => {
                    self.enabled.imap4rev2 = true;
                    enabled.push("IMAP4rev2".to_string());
                }
                // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                "QRESYNC" if !self.enabled.qresync => {
                    self.enabled.qresync = true;
                    if !self.enabled.condstore {
                        self.enabled.condstore = true;
                        enabled.push("CONDSTORE".to_string());
                    }
                    enabled.push("QRESYNC".to_string());
                }
                // RFC 6855 §3: UTF-8 mailbox names and UTF8 APPEND.
                "UTF8=ACCEPT" if !self.enabled.utf8_accept => {
                    self.enabled.utf8_accept = true;
                    enabled.push("UTF8=ACCEPT".to_string());
                }
                "CONDSTORE" if !self.enabled.condstore => {
                    self.enabled.condstore = true;
                    enabled.push("CONDSTORE".to_string());
                }
                _ => {}
            }
        }
        self.data(Data::Enabled(enabled));
        Ok(Done::ok("ENABLE completed"))
    }
}
