//! # postfach-sieve
//!
//! A Sieve (RFC 5228) mail-filter interpreter with no I/O: the host gives
//! the message, envelope and a [`Host`] that answers questions (mailbox
//! existence, included scripts, duplicate tracking, clock, environment);
//! the interpreter returns the [`Action`]s to carry out.
//!
//! ```
//! use sieve::{Compiler, Envelope, Message, NoHost};
//!
//! let compiler = Compiler::default();
//! let script = compiler
//!     .compile("require \"fileinto\";\nif header :contains \"subject\" \"[list]\" { fileinto \"Lists\"; }")
//!     .expect("valid script");
//! let msg = Message::parse(b"Subject: [list] hello\r\n\r\nbody\r\n");
//! let env = Envelope::new("sender@example.org", "me@example.com");
//! let outcome = sieve::run(&compiler, &script, &msg, &env, &mut NoHost).expect("runs");
//! assert_eq!(outcome.lines(), vec!["fileinto \"Lists\""]);
//! ```
//!
//! Compile errors ([`CompileError`]) carry a line and column and read like
//! `line 4, column 6: unknown test `hedaer`, did you mean `header`?`.
//! Runtime errors ([`RuntimeError`]) mean: keep the message in INBOX.
//!
//! Supported extensions: see [`EXTENSIONS`]. Limits: see [`Limits`].

pub mod actions;
pub mod ast;
pub mod error;
pub mod fuzzing;
pub mod interpret;
pub mod lexer;
pub mod limits;
pub mod message;
pub mod parser;
pub mod validate;

pub use actions::{Action, HeaderEdit, Outcome, Vacation};
pub use ast::IncludeLocation;
pub use error::{CompileError, Pos, RuntimeError};
pub use interpret::{run, DateTime, Host, NoHost, Scale, ScoreHeader};
pub use limits::Limits;
pub use message::{Envelope, HeaderField, Message};
pub use validate::{Compiler, Script, EXTENSIONS};
