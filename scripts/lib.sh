# Sourced by the measuring scripts: `corebench` is the binary they run
# (${COREBENCH:-target/release/corebench}, built when missing) and `out`
# a folder for their results, removed at exit unless KEEP=DIR names one.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
corebench=${COREBENCH:-target/release/corebench}
[ -x "$corebench" ] || cargo build --release -p corebench
out=${KEEP:-$(mktemp -d)}
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$out"' EXIT; fi
