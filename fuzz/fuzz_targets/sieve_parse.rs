//! Lex, parse and validate arbitrary bytes as a Sieve script.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sieve::fuzzing::compile(data));
