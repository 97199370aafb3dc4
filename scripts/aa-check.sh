#!/usr/bin/env bash
# A/A check: how often does corebench call two identical runs different?
# Runs one plan twice and compares the runs (`corebench compare`), then
# prints how many cells were flagged faster or slower. The goal on an idle
# machine is 0 and the bar is at most 5% of the cells.
#
#   scripts/aa-check.sh                 # quiet: plan run twice
#   scripts/aa-check.sh --hog           # the same with a CPU hog pinned to
#                                       # core 1 for the middle of each run
#   scripts/aa-check.sh --hog-comes-and-goes
#                                       # a hog pinned to core 0 that runs
#                                       # 2 s, rests 2 s, and so on, through
#                                       # the whole second run: at least 80%
#                                       # of the cells must still compare
#                                       # (unchanged), none faster or slower
#   scripts/aa-check.sh --control       # positive control: the second run
#                                       # on one core (--cores 0) must come
#                                       # out slower in its 2-worker cells
#
# The plan defaults to cpu/primes and synthetic/gil under every model at
# 1 and 2 workers; PLAN="..." replaces it (run arguments); KEEP=DIR keeps
# the runs and the comparison in DIR. Uses
# ${COREBENCH:-target/release/corebench}, built when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-quiet}
corebench=${COREBENCH:-target/release/corebench}
[ -x "$corebench" ] || cargo build --release -p corebench
read -r -a plan <<<"${PLAN:---workloads cpu/primes,synthetic/gil --models all --workers 1,2}"
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
hog_pid=""
cleanup() {
  if [ -n "$hog_pid" ]; then stop_hog; fi
  # KEEP=DIR keeps the two runs and the comparison there.
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

run() { # NAME [extra run arguments]
  local name=$1; shift
  "$corebench" run --no-progress --label "$name" "${plan[@]}" "$@" --out "$work/$name" \
    >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; exit 1; }
}

# Starts a hog pinned to core 1 a few seconds into a run, for about half
# of it, in the background.
hog_during() {
  ( sleep 5; taskset -c 1 sh -c 'while :; do :; done' & echo $! > "$work/hog.pid"; sleep 20; kill "$(cat "$work/hog.pid")" ) &
  hog_pid=$!
}

# A hog pinned to core 0 that runs 2 s and rests 2 s until killed, in the
# background, as CI neighbours come and go.
hog_comes_and_goes() {
  ( while :; do
      taskset -c 0 timeout 2 sh -c 'while :; do :; done' || true
      sleep 2
    done ) &
  hog_pid=$!
}

# Stops the loop first, so it starts no new hog, then the hog it runs
# (timeout passes the signal on to its shell).
stop_hog() {
  local children
  children=$(pgrep -P "$hog_pid" || true)
  kill "$hog_pid" 2>/dev/null || true
  if [ -n "$children" ]; then kill $children 2>/dev/null || true; fi
  hog_pid=""
}

case "$mode" in
  quiet|--quiet)
    run a; run b ;;
  --hog)
    hog_during; run a; wait "$hog_pid" || true
    hog_during; run b; wait "$hog_pid" || true
    hog_pid="" ;;
  --hog-comes-and-goes)
    run a
    hog_comes_and_goes; run b
    stop_hog
    grep -h "corebench: note: the machine was busy" "$work/b.log" || true ;;
  --control)
    run a; run b --cores 0 ;;
  *) echo "usage: $0 [--hog | --hog-comes-and-goes | --control]" >&2; exit 2 ;;
esac

"$corebench" compare "$work/a" "$work/b" --format csv --out "$work/compare.csv" >/dev/null
python3 - "$work/compare.csv" "$mode" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["baseline"] == "false"]
cells = [r for r in rows if r.get("change") not in ("", None, "baseline")]
flagged = [r for r in cells if r["change"] in ("faster", "slower")]
print(f"{sys.argv[2]}: {len(flagged)} of {len(cells)} cells flagged "
      f"({100.0 * len(flagged) / max(1, len(cells)):.1f}%)")
for change in ("faster", "slower", "unchanged", "too few trials to tell", "not comparable"):
    n = sum(1 for r in cells if r["change"] == change)
    if n:
        print(f"  {change}: {n}")
if sys.argv[2] == "--hog-comes-and-goes":
    compared = sum(1 for r in cells if r["change"] == "unchanged")
    print(f"  compared (unchanged): {compared} of {len(cells)} "
          f"({100.0 * compared / max(1, len(cells)):.0f}%; the bar is 80%, and 0 flagged)")
if sys.argv[2] == "--control":
    # On one core, 2 workers that compute in parallel must come out
    # slower; the GIL under threads is not parallel to begin with.
    for r in cells:
        if r["workers"] == "2":
            print(f"  2 workers, {r['model']:>13} {r['workload'].split(':')[0]:>14}: "
                  f"{float(r['ratio']):.3f}x {r['change']}")
PY
