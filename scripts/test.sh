#!/usr/bin/env bash
# Runs the whole test suite and ends with one plain line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
if ! source scripts/setup.sh; then
  echo "0 passed, 1 failed"
  exit 1
fi
report="$(mktemp -t crm-activate-vitest.XXXXXX.json)"
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile="$report" "$@" || status=$?
node -e '
  // Failed tests, plus test files that failed without a failing test (an import or hook error).
  const fs = require("node:fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(process.argv[2], "utf8")); } catch { console.log("0 passed, 1 failed"); process.exit(0); }
  const files = r.testResults ?? [];
  const brokenFiles = files.filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")).length;
  const passed = r.numPassedTests ?? 0;
  // vitest also fails a run for an error no test caught (an unhandled rejection): count it.
  const vitestFailed = process.argv[1] !== "0";
  const counted = (r.numFailedTests ?? 0) + brokenFiles;
  const failed = counted === 0 && vitestFailed ? 1 : counted;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$status" "$report"
rm -f "$report"
exit "$status"
