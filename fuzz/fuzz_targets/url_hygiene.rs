#![no_main]
//! `url_hygiene`: see `targets::url_hygiene` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::url_hygiene(data));
