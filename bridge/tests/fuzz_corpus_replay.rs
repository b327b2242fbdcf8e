//! Replays the committed `challenge` and `host_json` fuzz corpora (`fuzz/corpus/<target>/*`)
//! through the bridge's parts of those targets (`fuzz/targets_bridge.rs`), the same bodies the
//! cargo-fuzz binaries run after the core's, as ordinary tests. A missing or empty corpus
//! fails: a replay that checks nothing must not pass.

#[path = "../../fuzz/targets_bridge.rs"]
mod targets_bridge;

use std::path::PathBuf;

fn replay(target: &str) {
    let body = targets_bridge::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no target {target} in fuzz/targets_bridge.rs"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
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
        if let Err(panic) = std::panic::catch_unwind(|| body(&data)) {
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

#[test]
fn challenge() {
    replay("challenge");
}

#[test]
fn host_json() {
    replay("host_json");
}

/// Every bridge body has a replay test here.
#[test]
fn every_target_is_replayed() {
    let replayed = ["challenge", "host_json"];
    let names: Vec<&str> = targets_bridge::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, replayed);
}
