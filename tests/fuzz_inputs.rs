//! Replays every saved fuzzer input (fuzz/inputs/NAME/: the seeds and each input a
//! fuzzing run found that once crashed or hung a parser) through its target on stable,
//! so a fixed crash stays fixed. The fuzzers themselves: fuzz/README.md.

use std::path::Path;
use std::time::{Duration, Instant};

use aiswitch::fuzzing::TARGETS;

#[test]
fn every_saved_fuzzer_input_parses_without_a_panic_and_quickly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/inputs");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (each target keeps its inputs there)",
                    dir.display()
                )
            })
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no inputs for {name}", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let started = Instant::now();
            target(&data);
            // Generous for a debug build on a busy machine: the inputs that once hung a
            // parser took minutes.
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{name} took {:?} on {}",
                started.elapsed(),
                file.display()
            );
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len());
}

#[test]
fn every_fuzz_target_has_a_fuzzer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    for (name, _) in TARGETS {
        let file = dir.join(format!("{name}.rs"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            text.contains(&format!("aiswitch::fuzzing::{name}(")),
            "{} does not run aiswitch::fuzzing::{name}",
            file.display()
        );
    }
}
