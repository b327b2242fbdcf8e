#![no_main]
//! `c_abi_strings`: see `c_abi_strings` in fuzz/targets_ffi.rs.

#[path = "../targets_ffi.rs"]
mod targets_ffi;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets_ffi::c_abi_strings(data));
