#!/usr/bin/env bash
# Run the fuzz targets (fuzz/) for SECONDS in all (default 60), split
# between them: `parse` (option and size parsing) and `export_read` (the
# ncdu export reader, seeded from fuzz/seeds/export_read/ with the
# dictionary fuzz/export_read.dict). Installs cargo-fuzz if it is missing.
# cargo-fuzz needs nightly flags (the sanitizer): stable takes them with
# RUSTC_BOOTSTRAP=1, so the same toolchain builds everything. A crash
# fails, leaving its input under fuzz/artifacts/TARGET/ (replay it:
# cd fuzz && cargo fuzz run TARGET FILE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds="${1:-60}"
# libFuzzer runs forever on -max_total_time=0: each target gets 1 s or more.
export_seconds=$((seconds / 2 > 0 ? seconds / 2 : 1))
parse_seconds=$((seconds - export_seconds > 0 ? seconds - export_seconds : 1))

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== cargo install cargo-fuzz --locked"
  if ! cargo install cargo-fuzz --version 0.13.2 --locked; then
    echo "SKIPPED: cannot install cargo-fuzz"
    exit 0
  fi
fi

export RUSTC_BOOTSTRAP=1
cd fuzz
echo "== cargo fuzz build parse export_read"
cargo fuzz build parse
cargo fuzz build export_read
echo "== cargo fuzz run parse -- -max_total_time=$parse_seconds"
cargo fuzz run parse -- -max_total_time="$parse_seconds"
echo "== cargo fuzz run export_read -- -max_total_time=$export_seconds"
mkdir -p corpus/export_read
cargo fuzz run export_read corpus/export_read seeds/export_read -- \
  -dict=export_read.dict -max_total_time="$export_seconds"
