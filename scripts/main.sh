#!/usr/bin/env bash
# Runs the project's main job: the word count on the embedded broker (arguments go to it; by
# default it counts examples/data/sample.txt and prints `word<TAB>count` lines).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh
scripts/install-deps.sh --main >&2
exec cargo run --release --locked -p examples --example wordcount -- "$@"
