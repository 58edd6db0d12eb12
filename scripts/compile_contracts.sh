#!/usr/bin/env bash
# Regenerate statetui/core/contracts/bytecode.json from the .sol sources beside it
# with solc-js (the `solc` npm package pinned in package.json; works offline).
# Usage: bash scripts/compile_contracts.sh [--check]
#   --check: compile and compare with the committed file instead of writing it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/solc ] || npm ci --no-audit --no-fund
exec node scripts/compile_contracts.mjs "$@"
