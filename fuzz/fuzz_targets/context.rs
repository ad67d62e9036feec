#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    flagctl_fuzz::harness::context(data);
});
