#!/usr/bin/env bash
# Short smoke runs of every fuzz target (cargo-fuzz on the stable toolchain via RUSTC_BOOTSTRAP).
# FUZZ_SECONDS sets the time per target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh
secs="${FUZZ_SECONDS:-20}"
run() { # crate target
  local crate=$1 target=$2
  local corpus="$CARGO_TARGET_DIR/fuzz-corpus/$crate/$target"
  mkdir -p "$corpus"
  local log="$CARGO_TARGET_DIR/fuzz-$target.log"
  if (cd "$crate" && RUSTC_BOOTSTRAP=1 cargo fuzz run --target-dir "$CARGO_TARGET_DIR/fuzz" "$target" \
    "$corpus" "fuzz/seeds/$target" -- -max_total_time="$secs" >"$log" 2>&1); then
    grep -E '^Done [0-9]+ runs' "$log" | sed "s/^/$target: /"
  else
    tail -n 60 "$log"
    echo "fuzz target $target failed (full log: $log)" >&2
    return 1
  fi
}
run broker-embedded batch_decoder
run broker-embedded request_decoder
