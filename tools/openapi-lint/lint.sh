#!/bin/sh
# Lint the OpenAPI document opsbase serves with Redocly (recommended ruleset)
# and Spectral (spectral:oas). Exits non-zero when either reports an error;
# warnings are printed and do not fail.
#   tools/openapi-lint/lint.sh [OPSBASE_BIN]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/opsbase}
if [ ! -x "$here/node_modules/.bin/redocly" ] || [ ! -x "$here/node_modules/.bin/spectral" ]; then
    (cd "$here" && npm ci --no-audit --no-fund)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the document the server would serve, without starting one
"$bin" openapi > "$tmp/openapi.json"
# no telemetry or update checks: the lint runs offline once installed
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
status=0
echo "redocly lint (recommended):"
"$here/node_modules/.bin/redocly" lint "$tmp/openapi.json" --config "$here/redocly.yaml" --format=summary || status=1
echo "spectral lint (spectral:oas):"
"$here/node_modules/.bin/spectral" lint "$tmp/openapi.json" --ruleset "$here/.spectral.yaml" --fail-severity=error || status=1
exit "$status"
