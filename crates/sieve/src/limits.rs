//! Resource limits applied at compile and run time.

/// Limits that bound what a script may cost. All are enforced; exceeding one
/// is a [`CompileError`](crate::CompileError) (size, regex, nesting) or a
/// [`RuntimeError::Limit`](crate::RuntimeError::Limit) (everything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum script source size in bytes. Default 1 MiB.
    pub max_script_size: usize,
    /// Maximum number of actions (keep, fileinto, redirect, vacation, …) one run
    /// may produce. Default 64.
    pub max_actions: usize,
    /// Maximum number of redirects per message. Default 4.
    pub max_redirects: usize,
    /// Maximum depth of nested `include`s. Default 5.
    pub max_include_depth: usize,
    /// Maximum number of scripts loaded via `include` in one run. Default 64.
    pub max_includes: usize,
    /// Maximum length of a regular expression pattern in bytes. Default 1024.
    pub max_regex_len: usize,
    /// Maximum compiled size of a regular expression (bytes of automaton).
    /// Default 256 KiB.
    pub max_regex_compiled: usize,
    /// Maximum number of interpreter steps (commands and tests evaluated,
    /// including those in included scripts). Default 100 000.
    pub max_steps: u64,
    /// Maximum block nesting depth in a script. Default 64.
    pub max_nesting: usize,
    /// Maximum number of variables per scope. Default 256.
    pub max_variables: usize,
    /// Maximum length of a variable value in bytes. Default 64 KiB.
    pub max_variable_len: usize,
    /// Maximum number of header edits (addheader/deleteheader). Default 64.
    pub max_header_edits: usize,
    /// Minimum vacation period in seconds (`:days`/`:seconds` are raised to
    /// it; `:seconds 0` stays 0, "always answer"). Default 3 600 (one hour).
    pub vacation_min_period: u64,
    /// Maximum vacation period in seconds. Default 90 days.
    pub vacation_max_period: u64,
    /// Default vacation period in seconds when none is given. Default 7 days.
    pub vacation_default_period: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_script_size: 1 << 20,
            max_actions: 64,
            max_redirects: 4,
            max_include_depth: 5,
            max_includes: 64,
            max_regex_len: 1024,
            max_regex_compiled: 256 * 1024,
            max_steps: 100_000,
            max_nesting: 64,
            max_variables: 256,
            max_variable_len: 64 * 1024,
            max_header_edits: 64,
            vacation_min_period: 3_600,
            vacation_max_period: 90 * 86_400,
            vacation_default_period: 7 * 86_400,
        }
    }
}
