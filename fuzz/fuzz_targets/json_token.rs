#![no_main]
//! `json_token`: see `targets::json_token` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::json_token(data));
