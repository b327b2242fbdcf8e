#![no_main]
//! `token_response`: see `targets::token_response` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::token_response(data));
