//! ID.

use imap_proto::Data;

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 2971 §3.1 ID: logs the client's identification, answers with ours.
    pub(super) fn cmd_id(&mut self, params: Option<Vec<(String, Option<String>)>>) -> Result<Done> {
        if let Some(params) = &params {
            let described: Vec<String> =
                params.iter().take(30).map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("NIL"))).collect();
            tracing::info!(client = %described.join(", "), "client ID");
        }
        self.data(Data::Id(Some(vec![
            ("name".into(), Some("postfach".into())),
            ("version".into(), Some(env!("CARGO_PKG_VERSION").into())),
        ])));
        Ok(Done::ok("ID completed"))
    }
}
