#!/usr/bin/env bash
# Runs one plan file (plans/configs.toml, or PLAN) under several
# configurations of this machine, then compares them in one report; the
# plan's worker counts are fixed, so every cell has a partner in every
# configuration:
#   1 core        --cores 0                 (the baseline)
#   2 cores       --cores 0,1 --pin none
#   2 cores pin   --cores 0,1 --pin compact
# On a 2-core machine, cpu/primes under threads should be about 2x the
# baseline at 2 workers, and under tokio-current about 1x.
#
# Usage: scripts/compare-configs.sh [OUT_DIR] [PLAN] [extra `corebench run` args...]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-corebench-results/configs-$(date +%Y%m%d-%H%M%S)}
shift || true
plan_file=${1:-$repo/plans/configs.toml}
shift || true

cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p corebench
bin="$repo/target/release/corebench"

plan=("$plan_file" --no-progress "$@")

"$bin" run "${plan[@]}" --cores 0 --label "1 core" --out "$out/1-core"
"$bin" run "${plan[@]}" --cores 0,1 --pin none --label "2 cores" --out "$out/2-cores"
"$bin" run "${plan[@]}" --cores 0,1 --pin compact --label "2 cores, pinned" --out "$out/2-cores-pinned"

"$bin" compare "$out/1-core" "$out/2-cores" "$out/2-cores-pinned" --out "$out/compare"
"$bin" compare "$out/1-core" "$out/2-cores" "$out/2-cores-pinned" --format md --out "$out/compare/compare.md"

index="$out/compare/index.html"
echo "compare report: $index"
if [ -n "${DISPLAY:-}" ] && command -v xdg-open >/dev/null 2>&1; then
  xdg-open "$index" >/dev/null 2>&1 || true
fi
