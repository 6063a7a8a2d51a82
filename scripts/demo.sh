#!/usr/bin/env bash
# Installs what is needed, builds, and runs a demo sync into the bundled HubSpot emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
node dist/scripts/demo.js
