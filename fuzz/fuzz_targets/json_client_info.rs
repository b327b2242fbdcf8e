#![no_main]
//! `json_client_info`: see `targets::json_client_info` in fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::json_client_info(data));
