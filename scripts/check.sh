#!/usr/bin/env bash
# Runs exactly what CI runs (.ci/run): the tests, formatting and lints.
set -euo pipefail
exec bash "$(dirname "$0")/../.ci/run"
