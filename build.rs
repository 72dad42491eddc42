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
    ipvs(&out);
}

/// The IPVS numbers, from the system's <linux/ip_vs.h> (Debian's
/// linux-libc-dev): only what src/ipvs uses.
fn ipvs(out: &std::path::Path) {
    let header = "/usr/include/linux/ip_vs.h";
    println!("cargo:rerun-if-changed={header}");
    let bindings = bindgen::Builder::default()
        // Through the include path, as a program would include it.
        .header_contents("afcluster_ipvs.h", "#include <linux/ip_vs.h>\n")
        .allowlist_item(
            "IPVS_GENL_(NAME|VERSION)|IPVS_CMD_.*|IPVS_(SVC|DEST|DAEMON)_ATTR_.*|\
             IP_VS_SVC_F_.*|IP_VS_CONN_F_(FWD_MASK|MASQ|LOCALNODE|TUNNEL|DROUTE)|\
             IP_VS_CONN_F_TUNNEL_TYPE_.*|IP_VS_TUNNEL_ENCAP_FLAG_.*|\
             IP_VS_(SCHED|PE|IF)NAME_MAXLEN|IPVS_INFO_ATTR_.*|ip_vs_flags|\
             IP_VS_STATE_(MASTER|BACKUP)",
        )
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .layout_tests(false)
        .generate()
        .unwrap_or_else(|e| {
            panic!("bindgen over {header} failed: {e} (linux-libc-dev and libclang-dev: scripts/install-deps)")
        });
    bindings
        .write_to_file(out.join("ipvs_uapi.rs"))
        .expect("writing the generated IPVS bindings");
}
