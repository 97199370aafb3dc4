#!/bin/bash
# What --flamegraph costs: the same plan with sampling off and on, side by
# side, three pairs; prints each cell's on/off throughput ratio per pair.
# Build first (cargo build --release); COREBENCH=path overrides the binary.
set -euo pipefail
B=${COREBENCH:-target/release/corebench}
for i in 1 2 3; do
  for mode in off on; do
    d=/tmp/fgcost-$mode-$i; rm -rf $d
    extra=""; [ $mode = on ] && extra="--flamegraph"
    $B run --no-progress --no-calibration --workloads cpu/primes,sync/counter --models threads --workers 1,2 --trials 3 --ops 20000 $extra --out $d >/dev/null 2>&1
  done
done
python3 - <<'PY'
import json,statistics as st
for w in ['cpu/primes','sync/counter']:
  for n in [1,2]:
    ratios=[]
    for i in [1,2,3]:
      m={}
      for mode in ['off','on']:
        t=[json.loads(l)['throughput_ops_s'] for l in open(f'/tmp/fgcost-{mode}-{i}/records.jsonl') if json.loads(l)['workload']['id']==w and json.loads(l)['workers']==n and json.loads(l)['status']=='ok']
        m[mode]=st.median(t)
      ratios.append(m['on']/m['off'])
    print(w,n,'on/off throughput',[round(r,3) for r in ratios])
PY
