#!/usr/bin/env bash
# Every check the project has, the same locally and in CI: formatting, clippy with warnings as
# errors, the test suite (unit, integration and doc tests), and short fuzz smoke runs.
# Builds one profile (release) into a persistent target directory outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing what the checks need"
scripts/install-deps.sh --checks

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --release --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, integration and doc tests)"
test_log="$CARGO_TARGET_DIR/check-tests.log"
cargo test --release --workspace --locked 2>&1 | tee "$test_log"

step "fuzz smoke runs"
scripts/fuzz-smoke.sh

# One closing line for the whole suite (the sum of every test binary's result line).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$test_log"
