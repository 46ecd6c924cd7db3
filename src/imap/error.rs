//! The four outcomes of a failed command, mapped to responses in one place
//! ([`ImapError::into_response`]).

use imap_proto::{Code, Response, StatusKind, Tag};

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The command was not understood or not valid in this state: `BAD`.
    #[error("{0}")]
    Bad(String),
    /// The command was understood and refused: `NO [code] text`.
    #[error("{text}")]
    No { code: Option<Code>, text: String },
    /// The connection must end: `* BYE text`.
    #[error("{0}")]
    Bye(String),
    /// A server-side failure: logged in full, sent as `NO [SERVERBUG]`.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, ImapError>;

impl ImapError {
    pub fn no(code: Code, text: impl Into<String>) -> ImapError {
        ImapError::No { code: Some(code), text: text.into() }
    }

    pub fn bad(text: impl Into<String>) -> ImapError {
        ImapError::Bad(text.into())
    }

    /// The response for this error. Internal errors are logged here, so their
    /// detail never reaches the client.
    pub fn into_response(self, tag: Option<Tag>) -> Response {
        match self {
            ImapError::Bad(text) => Response::Status { tag, kind: StatusKind::Bad, code: None, text },
            ImapError::No { code, text } => Response::Status { tag, kind: StatusKind::No, code, text },
            ImapError::Bye(text) => Response::Status { tag: None, kind: StatusKind::Bye, code: None, text },
            ImapError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Response::Status {
                    tag,
                    kind: StatusKind::No,
                    code: Some(Code::ServerBug),
                    text: "internal server error, the administrator can find details in the log".into(),
                }
            }
        }
    }
}

impl From<store::Error> for ImapError {
    fn from(e: store::Error) -> ImapError {
        use store::Error as E;
        match e {
            E::NoSuchMailbox(name) => ImapError::no(Code::Nonexistent, format!("no such mailbox: {name}")),
            E::MailboxExists(name) => ImapError::no(Code::AlreadyExists, format!("mailbox already exists: {name}")),
            E::HasChildren(name) => ImapError::no(Code::HasChildren, format!("mailbox has children: {name}")),
            E::NotAllowed(what) => ImapError::no(Code::Cannot, what),
            E::InvalidName(name) => ImapError::no(Code::Cannot, format!("invalid mailbox name: {name}")),
            E::OverQuota(r) => ImapError::no(Code::OverQuota, format!("over quota ({r}): nothing was stored")),
            other => ImapError::Internal(other.to_string()),
        }
    }
}

impl From<std::io::Error> for ImapError {
    fn from(e: std::io::Error) -> ImapError {
        ImapError::Internal(e.to_string())
    }
}
