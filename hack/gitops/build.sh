#!/usr/bin/env bash
# Builds hack/gitops (kstatus + Argo CD health.lua evaluator) into the cache, keyed by the
# module's content, and prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${RRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rrsa-operator}
key=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)
bin="$cache_root/gitops-check/$key/gitops-check"
if [ ! -x "$bin" ]; then
  mkdir -p "$(dirname "$bin")"
  (cd "$here" && go build -trimpath -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
fi
echo "$bin"
