//! NAMESPACE.

use imap_proto::Data;

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.3.10; RFC 2342 NAMESPACE. Personal namespace `""` with
    /// separator `/`. The other-users and shared namespaces come with ACLs
    /// and are NIL until then.
    pub(super) fn cmd_namespace(&mut self) -> Result<Done> {
        self.data(Data::Namespace { personal: Some(vec![(String::new(), '/')]), other: None, shared: None });
        Ok(Done::ok("NAMESPACE completed"))
    }
}
