#!/usr/bin/env bash
# Fails when a tracked file holds a merge-conflict marker line.
#
# A leftover `=======` once shipped in static/app.css: it knocked out the rule after it
# (the tab strip's wrap) and every test still passed, because nothing read the CSS as a
# person's browser does. Markers are whole lines: `<<<<<<< ` / `>>>>>>> ` with a label,
# or `=======` alone. A line of seven `=` is also a Markdown heading underline, so that
# one form is not looked for in `*.md` files.
set -euo pipefail
cd "$(dirname "$0")/.."
found=$(
  {
    git grep -nE '^(<<<<<<<|>>>>>>>)( |$)' -- . || true
    git grep -nE '^=======$' -- . ':!*.md' || true
  } | sort -u
)
if [ -n "$found" ]; then
  echo "merge-conflict marker lines in tracked files:"
  echo "$found"
  exit 1
fi
echo "no merge-conflict markers in $(git ls-files | wc -l) tracked files"
