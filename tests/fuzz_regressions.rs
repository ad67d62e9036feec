//! Every input that once crashed, hung or exhausted memory in a fuzz target, run through
//! the same harness the target runs (fuzz/src/harness.rs): it must finish without a panic,
//! in bounded time, with a bounded amount of output.
//!
//! The inputs are files under tests/fuzz-regressions/<target>/, named after what they
//! found, and the fuzzer's seeds under fuzz/seeds/<target>/; see "Fuzzing" in the README.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

#[path = "../fuzz/src/harness.rs"]
mod harness;

/// A debug build is far slower than the fuzzer's release build; a hang is far slower still.
const TIME_LIMIT: Duration = Duration::from_secs(60);
const OUTPUT_LIMIT: usize = 64 << 20;

fn run_all(target: &str, run: fn(&[u8]) -> usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The fuzzer's checked-in seeds too: they keep the harness honest as the code moves.
    let dirs = [
        root.join("tests/fuzz-regressions").join(target),
        root.join("fuzz/seeds").join(target),
    ];
    let mut inputs = Vec::new();
    for dir in &dirs {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        inputs.extend(entries.map(|entry| entry.unwrap().path()));
    }
    inputs.retain(|path| path.file_name().is_some_and(|name| name != ".gitkeep"));
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs for {target}");
    for path in inputs {
        let data = std::fs::read(&path).unwrap();
        let (done, finished) = mpsc::channel();
        let name = path.display().to_string();
        // A spawned thread's stack (2 MiB), as rayon's workers have: deep recursion shows.
        let worker = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || done.send(run(&data)).unwrap())
            .unwrap();
        match finished.recv_timeout(TIME_LIMIT) {
            Ok(produced) => assert!(produced < OUTPUT_LIMIT, "{name}: {produced} bytes"),
            // The worker panicked; its message is above, under the input's name.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = worker.join();
                panic!("{name}: the harness panicked");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name}: still running after {TIME_LIMIT:?}")
            }
        }
    }
}

/// One test per fuzz target, named after it.
macro_rules! targets {
    ($($target:ident),*) => {
        $(
            #[test]
            fn $target() {
                run_all(stringify!($target), harness::$target);
            }
        )*
    };
}

targets!(flag_file, config, flagd, context, checks);
