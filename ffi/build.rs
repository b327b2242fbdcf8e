//! Gives `libmcpauth.so` its SONAME (`libmcpauth.so.<ABI>`), so that an installed library can be
//! upgraded in place as long as the ABI version is unchanged.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        // Keep in sync with `MCPAUTH_ABI_VERSION` in src/lib.rs (a test checks it).
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmcpauth.so.1");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
