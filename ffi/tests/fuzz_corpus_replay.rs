//! Replays the committed corpus of the C ABI fuzz target (`fuzz/corpus/c_abi_strings/`)
//! through the same body as `cargo fuzz run c_abi_strings`, as an ordinary test.

#[path = "../../fuzz/targets_ffi.rs"]
mod targets_ffi;

#[test]
fn c_abi_strings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/c_abi_strings");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus directory") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        targets_ffi::c_abi_strings(&data);
        n += 1;
    }
    assert!(n > 0, "empty corpus {}", dir.display());
}
