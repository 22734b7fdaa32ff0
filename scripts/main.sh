#!/usr/bin/env bash
# Runs the project's main job. Until the word-count example exists, that is the broker demo.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh
scripts/install-deps.sh --main >&2
exec cargo run --release --locked -p examples --example broker_demo -- "$@"
