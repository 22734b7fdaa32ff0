# Shared environment of the project's scripts: one persistent target directory outside the clone,
# so repeated runs (and CI runs on the same machine) reuse the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kstreams-rs/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"
