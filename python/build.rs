//! Exposes PyO3's interpreter cfgs (`Py_GIL_DISABLED`, `Py_3_*`) to this
//! crate, so code can tell a free-threaded build from one with a GIL.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
