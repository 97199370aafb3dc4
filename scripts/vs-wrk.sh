#!/usr/bin/env bash
# io/http under tokio against wrk, on the same nginx: does corebench's own
# HTTP client measure what a load generator measures? Starts Debian's
# nginx on 127.0.0.1 (one worker process, a 1 KiB static file), then
# alternates `wrk -t1 -c8 --latency` with a corebench run of io/http under
# tokio on one runtime thread with 8 workers (8 keep-alive connections),
# ROUNDS times each, and prints every round and both medians.
#
#   scripts/vs-wrk.sh            # 3 rounds of 5 s each
#   ROUNDS=5 SECONDS_EACH=10 scripts/vs-wrk.sh
#
# Needs nginx and wrk (installed with apt-get when missing and root or
# sudo is there) and python3. Uses ${COREBENCH:-target/release/corebench},
# built when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-3}
seconds=${SECONDS_EACH:-5}
connections=8
corebench=${COREBENCH:-target/release/corebench}

install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then install "${missing[@]}"; fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$corebench" ] || cargo build --release -p corebench

work=$(mktemp -d)
chmod 755 "$work"
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/www"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/www/index.html"
chmod -R a+rX "$work/www"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:$port;
    root $work/www;
  }
}
CONF
"$nginx_bin" -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
url="http://127.0.0.1:$port/index.html"
for _ in $(seq 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('$url', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.1
done

wrk_rates=(); wrk_p50s=(); cb_rates=(); cb_p50s=()
for round in $(seq "$rounds"); do
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "$url")
  rate=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p50_us=$(python3 -c "
v='$p50'
scale={'us':1,'ms':1e3,'s':1e6}
for unit in ('us','ms','s'):
    if v.endswith(unit): print(float(v[:-len(unit)])*scale[unit]); break")
  wrk_rates+=("$rate"); wrk_p50s+=("$p50_us")

  # One trial lasts about as long as wrk's run: ops per worker = rate *
  # seconds / connections, from wrk's rate this round.
  ops=$(python3 -c "print(max(100, int($rate * $seconds / $connections)))")
  folder="$work/corebench-$round"
  "$corebench" run --no-progress --no-calibration --workloads io/http --target "$url" \
    --models tokio --runtime-threads 1 --workers "$connections" --scaling weak \
    --trials 1 --ops "$ops" --out "$folder" >/dev/null 2>"$work/corebench.log" \
    || { cat "$work/corebench.log" >&2; exit 1; }
  read -r cb_rate cb_p50 < <(python3 - "$folder/report/summary.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["workload"].startswith("io/http")]
row = rows[0]
print(row["throughput_ops_s_median"], float(row["p50_ns"]) / 1e3)
PY
)
  cb_rates+=("$cb_rate"); cb_p50s+=("$cb_p50")
  printf 'round %d: wrk %.0f req/s, p50 %.1f us; corebench tokio %.0f ops/s, p50 %.1f us\n' \
    "$round" "$rate" "$p50_us" "$cb_rate" "$cb_p50"
done

python3 - "${wrk_rates[*]}" "${wrk_p50s[*]}" "${cb_rates[*]}" "${cb_p50s[*]}" <<'PY'
import statistics, sys
wrk_rate, wrk_p50, cb_rate, cb_p50 = ([float(x) for x in a.split()] for a in sys.argv[1:5])
m = statistics.median
print(f"median: wrk {m(wrk_rate):.0f} req/s, p50 {m(wrk_p50):.1f} us; "
      f"corebench {m(cb_rate):.0f} ops/s, p50 {m(cb_p50):.1f} us")
print(f"corebench / wrk: throughput {m(cb_rate) / m(wrk_rate):.3f}, p50 {m(cb_p50) / m(wrk_p50):.3f}")
PY
