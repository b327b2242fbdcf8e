#![no_main]
//! `host_json`: see `targets::host_json` in fuzz/targets.rs and `targets_bridge::host_json` in
//! fuzz/targets_bridge.rs (the same input through the core and the proxy bridge).

#[path = "../targets.rs"]
mod targets;
#[path = "../targets_bridge.rs"]
mod targets_bridge;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::host_json(data);
    targets_bridge::host_json(data);
});
