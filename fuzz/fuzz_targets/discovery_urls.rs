#![no_main]
//! `discovery_urls`: see `targets::discovery_urls` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::discovery_urls(data));
