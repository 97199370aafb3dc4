#!/usr/bin/env bash
# Compares machines: run the same suite on each, bring the results folders
# to one place, compare them in one report.
#
#   1. On every machine, from a checkout of corebench:
#        scripts/compare-machines.sh run [LABEL] [extra `corebench run` args...]
#      This runs the default suite (every workload and model, workers up to
#      the core count) with --label LABEL (default: the host name) into
#      corebench-results/machine-LABEL. Every run includes cpu/calibrate, so
#      machines of different clock speeds can also be compared per core.
#   2. Copy each machine's folder next to the others, e.g.
#        scp -r big-box:corebench/corebench-results/machine-big-box corebench-results/
#      A results folder is self-contained (host.json + records.jsonl) and is
#      read the same way on any machine.
#   3. Compare, the first folder being the baseline:
#        scripts/compare-machines.sh compare corebench-results/machine-a corebench-results/machine-b ...
#      This writes an HTML report (and compare.md beside it) and prints its
#      path. Add --fail-on-regression to exit 1 when anything got slower.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p corebench
bin="$repo/target/release/corebench"

command=${1:-help}
shift || true
case "$command" in
  run)
    label=${1:-$(hostname)}
    shift || true
    out="corebench-results/machine-$label"
    "$bin" run --label "$label" --out "$out" "$@"
    echo "copy $out to the machine that compares, then: $0 compare DIR DIR ..."
    ;;
  compare)
    if [ "$#" -lt 2 ]; then
      echo "usage: $0 compare DIR DIR [DIR...] [corebench compare options]" >&2
      exit 2
    fi
    out="corebench-results/machines-$(date +%Y%m%d-%H%M%S)"
    "$bin" compare "$@" --out "$out"
    "$bin" compare "$@" --format md --out "$out/compare.md"
    ;;
  *)
    sed -n '2,22p' "$0"
    ;;
esac
