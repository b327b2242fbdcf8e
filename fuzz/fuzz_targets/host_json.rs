#![no_main]
//! `host_json`: see `targets::host_json` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::host_json(data));
