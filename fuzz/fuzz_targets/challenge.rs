#![no_main]
//! `challenge`: see `targets::challenge` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::challenge(data));
