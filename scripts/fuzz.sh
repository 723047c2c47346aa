#!/usr/bin/env bash
# Run the `parse` fuzz target (fuzz/: option and size parsing) for SECONDS
# (default 60). Installs cargo-fuzz if it is missing. cargo-fuzz needs
# nightly flags (the sanitizer): stable takes them with RUSTC_BOOTSTRAP=1,
# so the same toolchain builds everything. A crash fails, leaving its input under
# fuzz/artifacts/parse/ (replay it: cd fuzz && cargo fuzz run parse FILE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== cargo install cargo-fuzz --locked"
  if ! cargo install cargo-fuzz --version 0.13.2 --locked; then
    echo "SKIPPED: cannot install cargo-fuzz"
    exit 0
  fi
fi

export RUSTC_BOOTSTRAP=1
cd fuzz
echo "== cargo fuzz build parse"
cargo fuzz build parse
echo "== cargo fuzz run parse -- -max_total_time=$seconds"
cargo fuzz run parse -- -max_total_time="$seconds"
