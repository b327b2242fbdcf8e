#![no_main]
//! `challenge`: see `targets::challenge` in fuzz/targets.rs and `targets_bridge::challenge` in
//! fuzz/targets_bridge.rs (the same input through the core and the proxy bridge).

#[path = "../targets.rs"]
mod targets;
#[path = "../targets_bridge.rs"]
mod targets_bridge;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::challenge(data);
    targets_bridge::challenge(data);
});
