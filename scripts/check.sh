#!/usr/bin/env bash
# What CI runs: formatting, clippy with warnings as errors, docs, the tests,
# and a build of the benches (they are run by hand: see perf/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo fmt --all -- --check"
cargo fmt --all -- --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo doc --workspace --no-deps (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
echo "== cargo bench --workspace --no-run"
cargo bench --workspace --no-run
echo "== cargo test --workspace"
cargo test --workspace
