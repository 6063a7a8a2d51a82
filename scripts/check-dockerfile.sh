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
# The build stage's dependencies are the project's own, from the same lock file: the test suite
# (whose setup just ran npm ci) passes its node_modules as REPLAY_BUILD_NODE_MODULES instead of
# installing them a second time. The production stage below is always installed afresh.
if [ -n "${REPLAY_BUILD_NODE_MODULES:-}" ]; then
  ln -s "$REPLAY_BUILD_NODE_MODULES" "$work/build/node_modules"
else
  (cd "$work/build" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
fi
(cd "$work/build" && node_modules/.bin/tsc -p tsconfig.build.json)
# production stage
cp package.json package-lock.json "$work/app/"
(cd "$work/app" && NODE_ENV=production npm ci --prefer-offline --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
cp -r "$work/build/dist" "$work/app/dist"
if [ -d "$work/app/node_modules/typescript" ] || [ -d "$work/app/node_modules/vitest" ]; then
  echo "development dependencies leaked into the production stage" >&2; exit 1
fi
chmod -R a+rX "$work" && chmod 755 "$work" && chown 1000:0 "$work/airbyte" && chmod g=u "$work/airbyte"
run_as_1000() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; else "$@"; fi; }
node_options="$(sed -n 's/^ENV NODE_OPTIONS="\(.*\)"$/\1/p' Dockerfile)"
out="$(cd "$work/airbyte" && NODE_OPTIONS="$node_options" run_as_1000 "$(command -v node)" "$work/app/dist/src/main.js" spec)"
echo "$out" | node -e '
  const m = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  if (m.type !== "SPEC" || m.spec.protocol_version !== "0.2.0") { console.error("bad SPEC"); process.exit(1); }
  console.log("image steps ok: SPEC printed by uid 1000 from the production stage");'
# A random uid in group 0 (OpenShift) must be able to make and lock the state store in /airbyte:
# check proves the store before it calls the CRM (unreachable here, so check itself fails).
random_uid=$((100000 + RANDOM))
run_as_random() { if [ "$(id -u)" = 0 ]; then setpriv --reuid="$random_uid" --regid=0 --clear-groups "$@"; else "$@"; fi; }
printf '%s' '{"crm":{"type":"hubspot","access_token":"pat-replay","base_url":"http://127.0.0.1:9","max_retry_ms":1000},"objects":[{"object":"invoices","mode":"upsert","match":{"source":"id","destination":"invoice_number"}}]}' > "$work/config.json"
chmod 644 "$work/config.json"
out="$(cd "$work/airbyte" && NODE_OPTIONS="$node_options" run_as_random "$(command -v node)" "$work/app/dist/src/main.js" check --config "$work/config.json" 2>/dev/null)"
echo "$out" | STORE="$work/airbyte/.crm-activate/state.db" UID_EXPECTED="$random_uid" node -e '
  const fs = require("node:fs");
  const m = JSON.parse(fs.readFileSync(0, "utf8"));
  if (m.type !== "CONNECTION_STATUS" || /state\.path/.test(m.connectionStatus.message ?? "")) { console.error("the store check failed: " + JSON.stringify(m)); process.exit(1); }
  if (fs.statSync(process.env.STORE).uid !== Number(process.env.UID_EXPECTED)) { console.error("the store was not made by the random uid"); process.exit(1); }
  console.log(`image steps ok: uid ${process.env.UID_EXPECTED} (group 0) made and locked the state store in /airbyte`);'
