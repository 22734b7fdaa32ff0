#!/usr/bin/env bash
# Installs what builds and tests need, only when missing (Debian, as root).
# Usage: install-deps.sh [--checks]   (--checks adds the tools of the full check: cargo-fuzz)
set -euo pipefail
need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
if [ "${1:-}" = "--checks" ] && ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
