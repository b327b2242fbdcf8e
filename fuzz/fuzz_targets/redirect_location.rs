#![no_main]
//! `redirect_location`: see `targets::redirect_location` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::redirect_location(data));
