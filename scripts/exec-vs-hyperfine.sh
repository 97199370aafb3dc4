#!/usr/bin/env bash
# Does `corebench exec` time a program as hyperfine does? Each command is
# run PAIRS times under each tool, one run at a time, alternating which
# goes first (ABBA), after one warm-up run under each, with no shell in
# between (hyperfine -N). On a shared machine the time of a run drifts
# over seconds, so a run is compared only with its neighbour under the
# other tool: the figure is the median of those paired ratios, with its
# quartiles. The goal is a median within 3% of 1.
#
#   scripts/exec-vs-hyperfine.sh            # 20 pairs per command
#   PAIRS=40 scripts/exec-vs-hyperfine.sh
#
# Needs hyperfine (Debian: apt-get install hyperfine); exits 0 with a line
# saying so when it is missing. Uses ${COREBENCH:-target/release/corebench},
# built when missing; KEEP=DIR keeps the results.
set -euo pipefail
if ! command -v hyperfine >/dev/null; then
  echo "hyperfine is not installed (apt-get install hyperfine); nothing compared"
  exit 0
fi
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
pairs=${PAIRS:-20}
commands=(
  "python3 -c 'sum(i*i for i in range(3_000_000))'"
  "python3 examples/python/primes.py --model processes --workers 2 --limit 400000"
)
hyperfine_once() { # INDEX COMMAND
  hyperfine -N --warmup 0 --runs 1 --export-json "$out/hf-$1.json" "$2" >/dev/null 2>&1
}
corebench_once() { # INDEX COMMAND
  "$corebench" exec -q --no-progress --name cmd -n 1 -t 1 --warmup 0 \
    --variant "cmd=$2" --out "$out/cb-$1" >/dev/null
}
for c in "${!commands[@]}"; do
  cmd=${commands[$c]}
  hyperfine_once "$c-warm" "$cmd"
  corebench_once "$c-warm" "$cmd"
  for p in $(seq 1 "$pairs"); do
    if [ $((p % 2)) -eq 1 ]; then
      hyperfine_once "$c-$p" "$cmd"; corebench_once "$c-$p" "$cmd"
    else
      corebench_once "$c-$p" "$cmd"; hyperfine_once "$c-$p" "$cmd"
    fi
  done
done
python3 - "$out" "$pairs" "${#commands[@]}" "${commands[@]}" <<'PY'
import json, statistics, sys
out, pairs, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = sys.argv[4:]
for c in range(count):
    ratios, hfs, cbs = [], [], []
    for p in range(1, pairs + 1):
        hf = json.load(open(f"{out}/hf-{c}-{p}.json"))["results"][0]["times"][0]
        cb = json.loads(open(f"{out}/cb-{c}-{p}/records.jsonl").readline())["wall_ns"] / 1e9
        hfs.append(hf); cbs.append(cb); ratios.append(cb / hf)
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    print(f"{names[c]}")
    print(f"  median wall: hyperfine {statistics.median(hfs) * 1e3:.1f} ms, corebench {statistics.median(cbs) * 1e3:.1f} ms")
    print(f"  paired ratio corebench/hyperfine over {pairs} pairs: median {median:.3f} (quartiles {q1:.3f}, {q3:.3f})")
PY
