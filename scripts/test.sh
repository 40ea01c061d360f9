#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test (unit, integration, corpus, caller
# scripts) against a real SQLite file and a real PostgreSQL server.
# Starts PostgreSQL if it is not running, and installs cargo-nextest if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/services.sh

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest..."
  cargo install cargo-nextest --locked
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo nextest run --workspace --locked --no-fail-fast "$@"
