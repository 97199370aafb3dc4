#!/bin/bash
# What reading a big results folder costs: writes a folder of about
# SIZE_MB megabytes (default 200) by repeating the sample folder's records
# with fresh trial numbers, then times `report` and `compare` on it and
# prints their peak RSS. Build first (cargo build --release);
# COREBENCH=path overrides the binary.
set -euo pipefail
B=${COREBENCH:-target/release/corebench}
SIZE_MB=${SIZE_MB:-200}
D=${DIR:-/tmp/corebench-big}
rm -rf "$D" "$D-report" "$D-compare"
mkdir -p "$D"
cp reports/tests/sample/host.json "$D/"
python3 - "$D" "$SIZE_MB" <<'PY'
import json, sys
out, size_mb = sys.argv[1], int(sys.argv[2])
lines = [json.loads(l) for l in open('reports/tests/sample/records.jsonl') if l.strip()]
target = size_mb * 1024 * 1024
written = 0
k = 0
with open(f'{out}/records.jsonl', 'w') as f:
    while written < target:
        for r in lines:
            r = dict(r)
            r['trial'] = k * 1000 + r['trial']
            s = json.dumps(r, separators=(',', ':')) + '\n'
            f.write(s)
            written += len(s)
        k += 1
PY
echo "folder: $(du -sh "$D/records.jsonl" | cut -f1), $(wc -l < "$D/records.jsonl") records"
for cmd in report compare; do
  if [ $cmd = report ]; then args=(report "$D" --out "$D-report"); else args=(compare "$D" "$D" --out "$D-compare"); fi
  /usr/bin/time -f "$cmd: %e s, peak RSS %M KiB" "$B" "${args[@]}" >/dev/null
done
