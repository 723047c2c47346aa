#!/usr/bin/env bash
# What CI runs: formatting, clippy with warnings as errors (also for macOS
# and Windows, where the std::fs backend is the product), docs, the tests,
# and a build of the benches (they are run by hand: see perf/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo fmt --all -- --check"
cargo fmt --all -- --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
# The other systems: fdu and fdu-platform (lib and bin) must build without
# warnings where only the std backend exists. `blake3/pure` avoids its C and
# assembly, which would need a cross compiler. A target whose standard
# library cannot be downloaded is skipped, saying so.
for target in x86_64-apple-darwin x86_64-pc-windows-gnu; do
  echo "== cargo clippy --target $target -p fdu -p fdu-platform -- -D warnings"
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target" &&
    ! rustup target add "$target"; then
    echo "SKIPPED: cannot install the $target standard library (rustup target add failed)"
    continue
  fi
  cargo clippy --target "$target" -p fdu -p fdu-platform --features blake3/pure -- -D warnings
done
echo "== cargo doc --workspace --no-deps (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
echo "== cargo bench --workspace --no-run"
cargo bench --workspace --no-run
echo "== cargo test --workspace"
cargo test --workspace
# --mpi (README, "Many nodes"): the feature builds on the system's MPI; its
# tests run fdu under mpirun with 1, 2 and 4 ranks.
if command -v mpirun >/dev/null; then
  echo "== cargo clippy --all-targets --features mpi -- -D warnings"
  cargo clippy --all-targets --features mpi -- -D warnings
  echo "== cargo test --features mpi --lib --test mpi"
  cargo test --features mpi --lib --test mpi
else
  echo "SKIPPED: the --mpi tests: mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev libclang-dev)"
fi
