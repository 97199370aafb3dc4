#!/usr/bin/env bash
# The books' central experiment in real CPython: the same CPU-bound and
# IO-bound work under threads, processes, a thread pool, a process pool and
# asyncio, at 1 and 2 workers (and past the cores for IO), measured by
# `corebench exec` into one results folder and report.
#
#   examples/python/gil.sh [--out DIR] [--quick]
#
# --quick is a tiny plan for tests. The default sizes each trial at a
# second or more at one worker, so process start-up does not hide the
# speedup. A free-threaded CPython (python3.13t or later) on PATH adds a
# variant. corebench is ${COREBENCH:-target/release/corebench} from the
# repository root, built if missing; the IO work GETs a `corebench serve`
# this script starts and stops.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
out=corebench-results/gil-$(date +%Y%m%d-%H%M%S)
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "gil.sh: unknown argument '$1'; usage: gil.sh [--out DIR] [--quick]" >&2; exit 2 ;;
  esac
done
bin=${COREBENCH:-target/release/corebench}
if [ ! -x "$bin" ]; then
  cargo build --release -q -p corebench
fi
python=${PYTHON:-python3}
here=examples/python

if [ "$quick" = 1 ]; then
  # No warm-up run: --quick checks that every model runs, not its speed.
  trials=1 warmup=0 limit=20000 requests=8 delay_ms=5 cpu_workers=1,2 io_workers=1,2
else
  trials=3 warmup=1 limit=1600000 requests=100 delay_ms=20 cpu_workers=1,2 io_workers=1,2,4,8
fi

# The loopback server for fetch.py, stopped on every way out.
tmp=$(mktemp -d)
"$bin" serve --port 0 --threads 2 > "$tmp/serve.out" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
  url=$(sed -n 's/.*\(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/serve.out")
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "gil.sh: corebench serve did not start" >&2; exit 1; }

cpu=() io=()
for model in threads processes thread-pool process-pool asyncio; do
  cpu+=(--variant "python-$model=$python $here/primes.py --model $model --workers {workers} --limit $limit")
  io+=(--variant "python-$model=$python $here/fetch.py --model $model --workers {workers} --requests $requests --url $url/work?delay_ms=$delay_ms")
done
for ft in python3.14t python3.13t; do
  if command -v "$ft" >/dev/null 2>&1; then
    cpu+=(--variant "python-free-threaded-threads=$ft $here/primes.py --model threads --workers {workers} --limit $limit")
    break
  fi
done

"$bin" exec --name python-cpu-primes -n "$cpu_workers" -t "$trials" --warmup "$warmup" -q "${cpu[@]}" --out "$tmp/cpu"
"$bin" exec --name python-io-fetch --io-bound -n "$io_workers" -t "$trials" --warmup "$warmup" -q "${io[@]}" --out "$tmp/io"

# One results folder: the two runs' records side by side, one host.json.
mkdir -p "$out"
if [ -n "$(ls -A "$out")" ]; then
  echo "gil.sh: $out is not empty; name a new folder with --out" >&2
  exit 2
fi
cp "$tmp/cpu/host.json" "$out/host.json"
cat "$tmp/cpu/records.jsonl" "$tmp/io/records.jsonl" > "$out/records.jsonl"
"$bin" report "$out"
