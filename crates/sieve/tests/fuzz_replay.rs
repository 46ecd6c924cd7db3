//! Replays the fuzz seed corpus (`fuzz/seeds/`, the RFC example scripts) and
//! every input that once crashed a fuzz target (`tests/fuzz_regressions/`)
//! through the targets' own entry functions, so a normal `cargo test` keeps
//! exercising them. How to run the fuzzer: docs/sieve.md.

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
        .collect();
    v.sort();
    v
}

fn seeds() -> Vec<PathBuf> {
    files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds"))
}

#[test]
fn seed_corpus_compiles_and_runs() {
    let seeds = seeds();
    assert!(seeds.len() >= 15, "seed corpus missing: {seeds:?}");
    for path in seeds {
        let bytes = std::fs::read(&path).expect("read seed");
        // The seeds are valid scripts: the fuzzer starts from deep inside the grammar.
        let src = String::from_utf8(bytes.clone()).expect("utf-8 seed");
        if let Err(e) = sieve::Compiler::default().compile(&src) {
            panic!("{}: {e}", path.display());
        }
        sieve::fuzzing::compile(&bytes);
        sieve::fuzzing::compile_and_run(&bytes);
        // Truncated and byte-flipped variants must not panic either.
        for cut in (0..bytes.len()).step_by(7) {
            sieve::fuzzing::compile_and_run(&bytes[..cut]);
        }
        let mut flipped = bytes.clone();
        for i in (0..flipped.len()).step_by(11) {
            flipped[i] ^= 0x20;
        }
        sieve::fuzzing::compile_and_run(&flipped);
    }
}

#[test]
fn past_crashes_do_not_crash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    for path in files(&dir) {
        let bytes = std::fs::read(&path).expect("read regression input");
        sieve::fuzzing::compile(&bytes);
        sieve::fuzzing::compile_and_run(&bytes);
    }
}
