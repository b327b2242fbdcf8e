//! The header is generated, committed, and in sync; its version macros equal the crate's.
//!
//! `UPDATE_HEADER=1 cargo test -p mcp-auth-ffi --test header` (or `make header`) rewrites
//! `include/mcpauth.h`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn header_path() -> PathBuf {
    root().join("include").join("mcpauth.h")
}

fn version() -> (u32, u32, u32) {
    let v: Vec<u32> = env!("CARGO_PKG_VERSION")
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().unwrap())
        .collect();
    (v[0], v[1], v[2])
}

/// Generate the header in memory with the pinned cbindgen, the version macros coming from
/// Cargo.toml.
fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let (major, minor, patch) = version();
    config.after_includes = Some(format!(
        "\n/** The version of the header: major, minor, patch, the string, and a number comparable \
         with `>=`: `MCPAUTH_VERSION_MAJOR * 1000000 + MCPAUTH_VERSION_MINOR * 1000 + \
         MCPAUTH_VERSION_PATCH`. */\n\
         #define MCPAUTH_VERSION_MAJOR {major}\n\
         #define MCPAUTH_VERSION_MINOR {minor}\n\
         #define MCPAUTH_VERSION_PATCH {patch}\n\
         #define MCPAUTH_VERSION \"{v}\"\n\
         #define MCPAUTH_VERSION_NUMBER ((MCPAUTH_VERSION_MAJOR * 1000000) + (MCPAUTH_VERSION_MINOR * 1000) + MCPAUTH_VERSION_PATCH)\n\n\
         /** The `kind` of tokens in the storage callbacks (see `mcpauth_storage_get_fn`). */\n\
         #define MCPAUTH_STORAGE_KIND_TOKENS \"{tokens}\"\n\
         /** The `kind` of client registrations in the storage callbacks. */\n\
         #define MCPAUTH_STORAGE_KIND_CLIENT_INFO \"{client_info}\"\n",
        v = env!("CARGO_PKG_VERSION"),
        tokens = mcpauth::MCPAUTH_STORAGE_KIND_TOKENS,
        client_info = mcpauth::MCPAUTH_STORAGE_KIND_CLIENT_INFO,
    ));
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed")
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn header_is_in_sync() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "length differs".to_owned(),
                |i| format!("first difference at line {}", i + 1),
            );
        panic!(
            "include/mcpauth.h is stale ({line}): run `make header` \
             (UPDATE_HEADER=1 cargo test -p mcp-auth-ffi --test header) and commit it"
        );
    }
}

fn define(header: &str, name: &str) -> String {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} not defined"))
        .trim()
        .to_owned()
}

#[test]
fn version_macros_equal_the_crate_version() {
    let header = std::fs::read_to_string(header_path()).unwrap();
    let (major, minor, patch) = version();
    assert_eq!(define(&header, "MCPAUTH_VERSION_MAJOR"), major.to_string());
    assert_eq!(define(&header, "MCPAUTH_VERSION_MINOR"), minor.to_string());
    assert_eq!(define(&header, "MCPAUTH_VERSION_PATCH"), patch.to_string());
    assert_eq!(
        define(&header, "MCPAUTH_VERSION"),
        format!("\"{}\"", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        define(&header, "MCPAUTH_ABI_VERSION"),
        mcpauth::MCPAUTH_ABI_VERSION.to_string()
    );
    // The runtime agrees with the header.
    // SAFETY: a static NUL-terminated string.
    let runtime = unsafe { std::ffi::CStr::from_ptr(mcpauth::mcpauth_version()) };
    assert_eq!(runtime.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(mcpauth::mcpauth_abi_version(), mcpauth::MCPAUTH_ABI_VERSION);
    // The SONAME set by build.rs carries the ABI version.
    let build_rs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs")).unwrap();
    assert!(
        build_rs.contains(&format!("libmcpauth.so.{}\"", mcpauth::MCPAUTH_ABI_VERSION)),
        "build.rs SONAME does not match MCPAUTH_ABI_VERSION"
    );
}
