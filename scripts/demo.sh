#!/usr/bin/env bash
# Installs, builds and runs a demo. (Until the HubSpot emulator lands it prints the SPEC.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
node dist/src/main.js spec
