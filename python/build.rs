//! Makes PyO3's interpreter cfgs (`Py_GIL_DISABLED`, `Py_3_x`) available to
//! this crate, so code that relies on the GIL can tell when there is none.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
