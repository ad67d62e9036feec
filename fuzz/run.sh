#!/usr/bin/env bash
# Runs one fuzz target on one core: fuzz/run.sh TARGET [SECONDS] [libFuzzer options…]
# (default 600 seconds). Crashes, hangs (over 10 s) and out-of-memory inputs (over
# 2 GiB) land in fuzz/artifacts/TARGET/; new coverage grows fuzz/corpus/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
target="$1"
seconds="${2:-600}"
shift $(($# < 2 ? $# : 2))
case "$target" in
    flagd | context) dict=dicts/json.dict ;;
    *) dict=dicts/toml.dict ;;
esac
[ -d "corpus/$target" ] || ./make-corpus.sh
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
# Optimized, with debug assertions and overflow checks (cargo-fuzz's default); no address
# sanitizer, as flagctl has no unsafe code (give FUZZ_SANITIZER=address to add it).
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" "$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -dict="$dict" \
    -print_final_stats=1 "$@"
