//! Error types: compile (parse/validate) errors with positions, and runtime errors.

use std::fmt;

/// A position in the script source (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.col)
    }
}

/// A lexing, parsing or validation error. `Display` gives
/// `line L, column C: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {message}")]
pub struct CompileError {
    pub pos: Pos,
    pub message: String,
}

impl CompileError {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        CompileError { pos, message: message.into() }
    }
}

/// An error while running a script. The host keeps the message in INBOX
/// (RFC 5228 §2.10.6) and reports the error to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// Two actions that cannot be combined (e.g. `reject` and `fileinto`).
    #[error("{pos}: {message}")]
    ActionConflict { pos: Pos, message: String },
    /// A configured limit was exceeded.
    #[error("{pos}: limit exceeded: {message}")]
    Limit { pos: Pos, message: String },
    /// An `include`d script failed to load or compile.
    #[error("{pos}: include of `{name}` failed: {message}")]
    Include { pos: Pos, name: String, message: String },
    /// The `error` command (RFC 5463) or another script-raised failure.
    #[error("{pos}: {message}")]
    Script { pos: Pos, message: String },
}

impl RuntimeError {
    /// The text without the position (`Display` puts `line L, column C: ` first).
    pub fn message(&self) -> String {
        match self {
            RuntimeError::ActionConflict { message, .. } | RuntimeError::Script { message, .. } => message.clone(),
            RuntimeError::Limit { message, .. } => format!("limit exceeded: {message}"),
            RuntimeError::Include { name, message, .. } => format!("include of `{name}` failed: {message}"),
        }
    }

    pub fn pos(&self) -> Pos {
        match self {
            RuntimeError::ActionConflict { pos, .. }
            | RuntimeError::Limit { pos, .. }
            | RuntimeError::Include { pos, .. }
            | RuntimeError::Script { pos, .. } => *pos,
        }
    }
}
