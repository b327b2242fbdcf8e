//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the same target
//! bodies the fuzzers run (`fuzz/targets.rs`), as ordinary tests: `make test` checks that no
//! input ever found (seed, coverage-increasing input, or fixed crash) panics again, on the
//! stable toolchain and without cargo-fuzz.
//!
//! One test per target. A target whose corpus directory is missing or empty fails: a replay
//! that checks nothing must not pass.

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
        .join("corpus")
        .join(target)
}

fn replay(target: &str) {
    let body = targets::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no target {target} in fuzz/targets.rs"));
    replay_dir(target, body, corpus_dir(target));
}

fn replay_dir(target: &str, body: fn(&[u8]), dir: PathBuf) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("corpus file reads");
        let outcome = std::panic::catch_unwind(|| body(&data));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} of {} corpus inputs fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*

        /// Every target in fuzz/targets.rs has a replay test here.
        #[test]
        fn every_target_is_replayed() {
            let replayed = [$(stringify!($name)),*];
            for (name, _) in targets::TARGETS {
                assert!(replayed.contains(name), "no replay test for target {name}");
            }
            assert_eq!(replayed.len(), targets::TARGETS.len());
        }
    };
}

replay_tests!(
    challenge,
    json_token,
    json_as_metadata,
    json_prm,
    json_client_metadata,
    json_client_info,
    token_response,
    registration_response,
    discovery_urls,
    authorization_url,
    redirect_location,
    url_hygiene,
    host_json,
);
