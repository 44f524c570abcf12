#!/usr/bin/env bash
# Makes docs/figures/pressure-timeline.{csv,png}: `catchup generate --all`
# over 1,000 users x 100 contacts under a 1200 KiB heap budget, sampled
# every 10 ms, in a private cluster of its own (removed afterwards).
# Needs a built tree (./dev.sh build) and gnuplot (apt-get install gnuplot-nox).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/app/catchup
data=$(mktemp -d /tmp/catchup-timeline-XXXXXX)
trap 'rm -rf "$data"' EXIT
"$bin" seed --users 1000 --contacts 100 --seed 21 \
  --now 2026-11-22T10:00:00Z --database-data-dir "$data/pg" >/dev/null
"$bin" generate --all --summary-only --now 2026-11-22T10:00:00Z \
  --database-data-dir "$data/pg" --memory-budget 1200KiB \
  --memory-sample-interval-ms 10 \
  --memory-timeline docs/figures/pressure-timeline.csv
