#!/usr/bin/env bash
# Copies the front-end libraries the binary embeds from the npm packages pinned in
# web/package-lock.json into src/web/assets/vendor/ (each with its licence), unchanged.
#
#   web/vendor.sh          refresh the committed copies (after editing web/package.json,
#                          run `npm install --package-lock-only` in web/ first)
#   web/vendor.sh --check  fail when the committed copies differ from what the lock file
#                          pins (CI runs this)
#
# Nothing is built and nothing is ever loaded from another host at run time.
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-}
dest=../src/web/assets/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json "$tmp/"
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
out="$tmp/out"
mkdir -p "$out/licenses"
nm="$tmp/node_modules"
# package  file in the package  name in vendor/
files=(
  "htm preact/standalone.module.js htm-preact.module.js"
  "react umd/react.production.min.js react.production.min.js"
  "react-dom umd/react-dom.production.min.js react-dom.production.min.js"
  "graphiql graphiql.min.js graphiql.min.js"
  "graphiql graphiql.min.css graphiql.min.css"
  "echarts dist/echarts.min.js echarts.min.js"
  "graphql-ws umd/graphql-ws.min.js graphql-ws.min.js"
)
for f in "${files[@]}"; do
  read -r pkg path name <<<"$f"
  cp "$nm/$pkg/$path" "$out/$name"
done
for pkg in htm react react-dom graphiql echarts; do
  cp "$nm/$pkg/LICENSE" "$out/licenses/$pkg.LICENSE.txt"
done
cp "$nm/graphql-ws/LICENSE.md" "$out/licenses/graphql-ws.LICENSE.txt"
cp "$nm/echarts/NOTICE" "$out/licenses/echarts.NOTICE.txt"
# What is vendored, at which version (read from the installed packages).
for pkg in htm react react-dom graphiql echarts graphql-ws; do
  node -e 'const p=require(process.argv[1]); console.log(p.name+"@"+p.version+" "+p.license)' "$nm/$pkg/package.json"
done >"$out/VERSIONS.txt"
if [ "$mode" = "--check" ]; then
  if diff -r "$out" "$dest" >/dev/null; then
    echo "vendor: the committed copies match web/package-lock.json"
  else
    diff -rq "$out" "$dest" || true
    echo "vendor: src/web/assets/vendor differs from web/package-lock.json: run web/vendor.sh" >&2
    exit 1
  fi
else
  rm -rf "$dest"
  cp -r "$out" "$dest"
  echo "vendor: copied into src/web/assets/vendor"
  cat "$out/VERSIONS.txt"
fi
