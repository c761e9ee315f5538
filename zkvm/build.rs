//! Makes `link.x` visible to the linker of every guest binary that depends on this crate.
//!
//! Cargo only forwards `rustc-link-arg` to the package's own binaries, so the `-Tlink.x` flag itself lives in
//! the guest's rustflags (`zkmips build` and `examples/.cargo/config.toml` add it); this script copies the
//! script into `OUT_DIR` and adds that directory to the search path, which does propagate to dependents.
use std::{env, fs, path::PathBuf};

fn main() {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("link.x", out_dir.join("link.x")).expect("copy link.x to OUT_DIR");
    println!("cargo:rustc-link-search={}", out_dir.display());
    println!("cargo:rerun-if-changed=link.x");
    println!("cargo:rerun-if-changed=build.rs");
}
