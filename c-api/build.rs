//! Gives the shared library a versioned SONAME, as C libraries have, so that
//! programs linked against it keep loading the ABI they were built for.
//! Writes nothing into the source tree.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("set by cargo");
    // Before 1.0 a minor release may break the ABI, so it is part of the name.
    let soname = if major == "0" {
        format!("libringq.so.0.{minor}")
    } else {
        format!("libringq.so.{major}")
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
