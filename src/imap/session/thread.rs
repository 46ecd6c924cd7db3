//! THREAD and UID THREAD (RFC 5256 §3): ORDEREDSUBJECT, REFERENCES, REFS
//! ([`crate::imap::thread`]), over the messages the search criteria match.

use imap_proto::{Data, SearchKey, ThreadAlgorithm};

use super::search::{check_charset, substitute_saved};
use super::{Done, Session};
use crate::imap::error::Result;
use crate::imap::thread::{thread, ThreadMsg};

impl Session {
    /// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria`
    pub(super) async fn cmd_thread(
        &mut self,
        uid: bool,
        algorithm: ThreadAlgorithm,
        charset: &str,
        search: SearchKey,
    ) -> Result<Done> {
        check_charset(charset)?;
        let search = substitute_saved(search, self.view()?);
        let msgs = self
            .matching(&search, |seq, rec| ThreadMsg::from_record(seq, if uid { rec.uid } else { seq }, rec))
            .await?;
        self.data(Data::Thread(thread(algorithm, &msgs)));
        Ok(Done::ok("THREAD completed"))
    }
}
