#![no_main]
//! `authorization_url`: see `targets::authorization_url` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::authorization_url(data));
