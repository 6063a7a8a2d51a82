#!/usr/bin/env bash
# There is no Docker engine on our build machines, so this replays the Dockerfile's steps by hand
# in a clean folder: the build stage, the production stage (runtime dependencies only), then runs
# the entrypoint as uid 1000 from a read-only app folder and checks it prints a valid SPEC.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh
work="$(mktemp -d -t crm-activate-docker.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build" "$work/app" "$work/airbyte"
# build stage
cp package.json package-lock.json tsconfig.json tsconfig.build.json spec.json "$work/build/"
cp -r src "$work/build/src"
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error && npx tsc -p tsconfig.build.json)
# production stage
cp package.json package-lock.json "$work/app/"
(cd "$work/app" && NODE_ENV=production npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
cp -r "$work/build/dist" "$work/app/dist"
if [ -d "$work/app/node_modules/typescript" ] || [ -d "$work/app/node_modules/vitest" ]; then
  echo "development dependencies leaked into the production stage" >&2; exit 1
fi
chmod -R a+rX "$work" && chmod 755 "$work" && chown 1000:1000 "$work/airbyte"
run_as_1000() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; else "$@"; fi; }
node_options="$(sed -n 's/^ENV NODE_OPTIONS="\(.*\)"$/\1/p' Dockerfile)"
out="$(cd "$work/airbyte" && NODE_OPTIONS="$node_options" run_as_1000 "$(command -v node)" "$work/app/dist/src/main.js" spec)"
echo "$out" | node -e '
  const m = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  if (m.type !== "SPEC" || m.spec.protocol_version !== "0.2.0") { console.error("bad SPEC"); process.exit(1); }
  console.log("image steps ok: SPEC printed by uid 1000 from the production stage");'
