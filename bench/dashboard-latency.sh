#!/usr/bin/env bash
# The dashboard at estate scale, measured as an admin meets it (see bench/Dashboard.Bench/Program.cs):
# Release build, the API as its own process, Debian's Chromium through Playwright.
#   10,000 devices over two sites: navigation -> the grid's count "10,000" visible, fresh context and warm;
#   ingest -> row change over 20 changes; 100,000 devices: fresh context.
# SQLite by default; with PVSFLEET_TEST_POSTGRES set (as .ci/run sets it), PostgreSQL. BENCH_RUNS=5 loads per figure.
# Usage: bench/dashboard-latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release src/Api -v quiet -nologo >/dev/null
dotnet build -c Release bench/Dashboard.Bench -v quiet -nologo >/dev/null
dotnet bench/Dashboard.Bench/bin/Release/net10.0/PvsFleet.Dashboard.Bench.dll
