#![no_main]
//! `registration_response`: see `targets::registration_response` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::registration_response(data));
