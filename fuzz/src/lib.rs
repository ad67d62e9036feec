//! Harnesses of the fuzz targets. Each runs one input through the library as flagctl
//! would and panics on a broken invariant; the main crate's tests/fuzz_regressions.rs
//! runs the same code (it includes `harness.rs`) on every input that once failed.

pub mod harness;
