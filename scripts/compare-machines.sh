#!/usr/bin/env bash
# Compares machines: run the same suite on each, bring the results folders
# to one place, compare them in one report.
#
#   1. On every machine, from a checkout of corebench:
#        scripts/compare-machines.sh run [LABEL] [PLAN] [extra `corebench run` args...]
#      This runs one plan file, the same on every machine (PLAN, default
#      plans/machines.toml: the default suite at fixed worker counts, so
#      that no count follows a machine's cores), with --label LABEL
#      (default: the host name) into corebench-results/machine-LABEL. PLAN
#      may also be a results folder another machine wrote: its plan.toml is
#      run again exactly (`corebench run --same-as DIR`). Every run includes
#      cpu/calibrate, so machines of different clock speeds can also be
#      compared per core.
#   2. Copy each machine's folder next to the others, e.g.
#        scp -r big-box:corebench/corebench-results/machine-big-box corebench-results/
#      A results folder is self-contained (host.json + records.jsonl) and is
#      read the same way on any machine.
#   3. Compare, the first folder being the baseline:
#        scripts/compare-machines.sh compare corebench-results/machine-a corebench-results/machine-b ...
#      This writes an HTML report (and compare.md beside it) and prints its
#      path, and says whether the machines ran the same plan (and if not,
#      what differs). Add --fail-on-regression to exit 1 when anything got
#      slower.
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
    plan=${1:-$repo/plans/machines.toml}
    shift || true
    out="corebench-results/machine-$label"
    if [ -d "$plan" ]; then
      "$bin" run --same-as "$plan" --label "$label" --out "$out" "$@"
    else
      "$bin" run "$plan" --label "$label" --out "$out" "$@"
    fi
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
    sed -n '2,/^set -e/{/^set -e/!p}' "$0"
    ;;
esac
