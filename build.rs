//! Generates the ABI numbers from include/uapi/linux/afcluster.h: the header
//! is the single source of truth, no number is copied by hand.

use std::{env, path::PathBuf};

fn main() {
    let header = "include/uapi/linux/afcluster.h";
    println!("cargo:rerun-if-changed={header}");
    let bindings = bindgen::Builder::default()
        .header(header)
        .allowlist_item("(AFCLUSTER|afcluster)_.*")
        // Plain constants named as in C (AFCLUSTER_A_NODE_ID...).
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(false)
        .generate()
        .unwrap_or_else(|e| panic!("bindgen over {header} failed: {e} (is libclang-dev installed? scripts/install-deps)"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("uapi.rs"))
        .expect("writing the generated bindings");
}
