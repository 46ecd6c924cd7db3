pub mod fetch;
pub mod search;
