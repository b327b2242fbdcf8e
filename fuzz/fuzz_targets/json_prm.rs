#![no_main]
//! `json_prm`: see `targets::json_prm` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::json_prm(data));
