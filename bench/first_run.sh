#!/usr/bin/env bash
# How long the README's first command takes on a fresh clone: `make run` until the server says it
# is serving. Uses whatever pip cache this machine has (say which when you report: a warm cache
# holds the compiled llama-cpp-python wheel; `pip cache purge` first for a cold run).
#   bash bench/first_run.sh [REPO_URL_OR_PATH]
set -euo pipefail
src="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
work="$(mktemp -d /tmp/rt-first-run.XXXX)"
git clone -q "$src" "$work/readtrail"
cd "$work/readtrail"
export READTRAIL_HOME="$work/home" PORT=8799
start=$(date +%s)
make run > "$work/run.log" 2>&1 &
pid=$!
until grep -q "readtrail: serving" "$work/run.log"; do
  kill -0 $pid 2>/dev/null || { tail -20 "$work/run.log"; exit 1; }
  sleep 2
done
echo "make run: serving after $(( $(date +%s) - start )) s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
pkill -f "readtrail serve --transport http --port 8799" || true
wait $pid 2>/dev/null || true
rm -rf "$work"
