#!/usr/bin/env bash
# Installs what builds and tests need, only when missing (Debian, as root).
# Usage: install-deps.sh [--checks | --venv | --main]
#   --checks  everything the full check needs: kcat, the Python venv of the compatibility tests,
#             cargo-fuzz, and what the rdkafka build needs
#   --venv    only the Python virtual environment of the client compatibility tests (no apt)
#   --main    only what building and running the main job needs (C and C++ compilers, and libclang
#             for the RocksDB bindings)
# The compatibility tests (tests/tests/wire_*.rs) drive real Kafka clients: kcat (Debian), and
# confluent-kafka and kafka-python (PyPI) from a virtual environment at $KSTREAMS_VENV, by default
# $HOME/.cache/kstreams-rs/venv. The rdkafka crate (a dev-dependency of the tests) builds librdkafka
# from source with its configure script, make and cc, and zlib from source when no system one is found.
set -euo pipefail
venv="${KSTREAMS_VENV:-$HOME/.cache/kstreams-rs/venv}"

# Whether the venv has the clients, in the major versions the test scripts are written for.
venv_ready() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c '
import confluent_kafka, kafka
from importlib.metadata import version
assert version("confluent-kafka").startswith("2."), version("confluent-kafka")
assert version("kafka-python").startswith("3."), version("kafka-python")' >/dev/null 2>&1
}

install_venv() {
  if venv_ready; then
    return
  fi
  if [ ! -x "$venv/bin/python" ]; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet -r "$(dirname "$0")/../tests/python/requirements.txt"
  venv_ready || { echo "install-deps.sh: $venv lacks confluent-kafka 2 or kafka-python 3" >&2; exit 1; }
}

if [ "${1:-}" = "--venv" ]; then
  install_venv
  exit 0
fi

# The rocksdb crate compiles RocksDB (C++) and generates its bindings with bindgen, which loads
# libclang (`libclang.so*` or `libclang-<version>.so*`; `libclang-cpp.so*`, which machines may
# have without it, is another library and does not do).
has_libclang() {
  local dir
  for dir in /usr/lib/llvm-*/lib /usr/lib/*-linux-gnu /usr/lib; do
    if compgen -G "$dir/libclang.so*" >/dev/null || compgen -G "$dir/libclang-[0-9]*.so*" >/dev/null; then
      return 0
    fi
  done
  return 1
}
need_apt=()
if ! command -v cc >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1; then
  need_apt+=(build-essential)
fi
has_libclang || need_apt+=(libclang-dev)
if [ "${1:-}" = "--main" ]; then
  if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  fi
  exit 0
fi
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
install_venv
if [ "${1:-}" = "--checks" ] && ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
