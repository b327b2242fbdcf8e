#![no_main]
//! `json_as_metadata`: see `targets::json_as_metadata` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::json_as_metadata(data));
