# Sourced by demo.sh and test.sh: Node >= 22.13 on PATH, dependencies installed, project built.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-env.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# npm ci again only when the lock file changed since the last install (always in CI).
if [ -n "${CI:-}" ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/tsc -p tsconfig.json
