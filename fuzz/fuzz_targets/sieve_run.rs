//! Compile arbitrary bytes and run valid scripts on a fixed message.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sieve::fuzzing::compile_and_run(data));
