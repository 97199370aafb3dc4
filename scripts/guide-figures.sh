#!/usr/bin/env bash
# Makes the figures of docs/guide/: runs each of the books' plans (plans/)
# at its default size on this machine, keeps its results folder under
# corebench-results/guide/NAME, and puts the figure its guide page shows
# in docs/guide/figures/: charts of the report copied as they are, and,
# where the figure is a part of the report page (a table, a side-by-side
# section), a screenshot of that part taken with headless Chromium
# (skipped, with a note, where none is installed). About 6 minutes on a
# 2-core machine; run it on a quiet one.
#
#   scripts/guide-figures.sh [NAME...]     (default: every book plan)
#   FIGURES_ONLY=1 scripts/guide-figures.sh [NAME...]
#                      remake the figures from the results folders kept
#                      by the last run, without running the plans again
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
corebench=${COREBENCH:-target/release/corebench}
[ -x "$corebench" ] || cargo build --release -q -p corebench
# The process model re-executes the binary: a copy, so that a rebuild
# meanwhile cannot pull it away.
bin=$(mktemp -d)/corebench
cp "$corebench" "$bin"
figures=docs/guide/figures
mkdir -p "$figures" corebench-results/guide

# NAME: the charts to copy, each as MATCH=FIGURE (the end of the chart's
# file name, and the figure's name); then the report sections to shoot,
# each as SECTIONS;HEIGHT;PART;COLUMNS (see trim).
charts() {
  case "$1" in
    amdahl) echo "serial-fraction-0-05-strong-none-speedup=amdahl-0.05 serial-fraction-0-25-strong-none-speedup=amdahl-0.25 serial-fraction-0-5-strong-none-speedup=amdahl-0.5" ;;
    gil) echo "synthetic-gil-locked-fraction-1-op-steps-20000-strong-none-speedup=gil-synthetic exec-python-primes-limit-400000-strong-none-speedup=gil-python" ;;
    io-vs-cpu) echo "stall-ms-throughput=io-vs-cpu-http cpu-primes-from-1000000-span-300-strong-none-speedup=io-vs-cpu-primes exec-python-fetch-requests-96-strong-none-speedup=io-vs-cpu-python" ;;
    executors) echo "cpu-mandelbrot-height-128-max-iter-256-width-256-strong-none-speedup=executors-mandelbrot mixed-crawl-hash-rounds-8-links-4-pages-0-strong-none-speedup=executors-crawl" ;;
    *) echo "" ;;
  esac
}
shots() {
  case "$1" in
    races) echo "race-lost-update-impl-load-store+race-lost-update-impl-fetch-add;600;cells;model,workers,ops/s,speedup,counters,status" ;;
    deadlock) echo "summary;360;all;" ;;
    locks-and-atomics) echo "sync-counter-side-by-side;1100;all;" ;;
    communication) echo "comm-channel-side-by-side;1500;all;" ;;
    reactive-streams) echo "stream-pipeline-side-by-side;1500;all;" ;;
    *) echo "" ;;
  esac
}

# Writes REPORT/shot.html: the page's head and the sections whose ids
# start with SECTIONS (joined by +), whole (PART all) or only their
# table of cells (PART cells), with only the COLUMNS (header prefixes,
# joined by commas; empty: all) of each table.
trim() {
  python3 - "$@" <<'EOF'
import re, sys
report, sections, part, columns = sys.argv[1:5]
page = open(f"{report}/index.html", encoding="utf-8").read()
head = page[: page.index("<body>")]
body = ""
for prefix in sections.split("+"):
    start = page.index(f'<section id="{prefix}')
    end = page.index("</section>", start) + len("</section>")
    section = page[start:end].replace("<details", "<details open")
    if part == "cells":
        title = re.search(r"<h2[^>]*>.*?</h2>", section, re.S).group(0)
        spec = re.search(r'<p class="note">spec .*?</p>', section, re.S)
        cells = section.index("<h3>Cells</h3>")
        table = section[cells : section.index("</table>", cells) + len("</table>")]
        section = title + (spec.group(0) if spec else "") + table + "</div>"
    body += section
keep = [c for c in columns.split(",") if c]
script = ""
if keep:
    # Hides every column whose header starts with none of `keep`.
    script = """<script>
for (const table of document.querySelectorAll('table')) {
  const heads = [...table.rows[0].cells].map(c => c.textContent.trim());
  const hide = heads.map(h => !%s.some(k => h.startsWith(k)));
  for (const row of table.rows) [...row.cells].forEach((c, i) => { if (hide[i]) c.style.display = 'none'; });
}
</script>""" % repr(keep)
with open(f"{report}/shot.html", "w", encoding="utf-8") as out:
    # A shot shows every row: no table scrolls inside its box.
    style = "<style>.table-scroll { max-height: none; overflow: visible; }</style>"
    out.write(f'{head}{style}<body style="width: 1150px">{body}{script}</body></html>')
EOF
}

browser=$(command -v chromium || command -v chromium-browser || true)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(gil io-vs-cpu amdahl races deadlock locks-and-atomics executors communication reactive-streams)
for name in "${names[@]}"; do
  out=corebench-results/guide/$name
  if [ -z "${FIGURES_ONLY:-}" ] || [ ! -d "$out/report" ]; then
    rm -rf "$out"
    echo "guide-figures: corebench run $name --out $out" >&2
    "$bin" run "$name" --no-progress -q --out "$out"
  fi
  for chart in $(charts "$name"); do
    file=$(ls "$out/report" | grep -- "${chart%%=*}.svg\$" | head -1)
    cp "$out/report/$file" "$figures/${chart##*=}.svg"
  done
  for shot in $(shots "$name"); do
    IFS=';' read -r section height part columns <<< "$shot"
    if [ -z "$browser" ]; then
      echo "guide-figures: no chromium: $name's screenshot is left as it was" >&2
      continue
    fi
    trim "$out/report" "$section" "$part" "$columns"
    profile=$(mktemp -d)
    "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$profile" \
      --virtual-time-budget=10000 --window-size=1200,"$height" \
      --screenshot="$PWD/$figures/$name.png" "file://$PWD/$out/report/shot.html" 2>/dev/null
    rm -rf "$profile" "$out/report/shot.html"
  done
done
ls -la "$figures" >&2
