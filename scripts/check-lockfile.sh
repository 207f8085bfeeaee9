#!/usr/bin/env bash
# Checks that package-lock.json is accepted by `npm ci` with npm 10 and with npm 11 (Node 20 ships
# 10, Node 24 ships 11; a lock only one of them accepts must not land: docs/decisions/003).
# A dry run in a scratch directory: resolves the whole tree from the lock, downloads nothing, runs
# no scripts. Also checks that the lock has every optional platform entry, with its version.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/complete-lockfile.mjs --check
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp package.json package-lock.json "$scratch/"
for major in 10 11; do
  if ! out=$(cd "$scratch" && npx -y "npm@$major" ci --dry-run --ignore-scripts --no-audit --no-fund 2>&1); then
    echo "npm $major refuses package-lock.json:" >&2
    echo "$out" | tail -20 >&2
    exit 1
  fi
  echo "check-lockfile: npm $(cd "$scratch" && npx -y "npm@$major" --version) ci accepts the lock"
done
