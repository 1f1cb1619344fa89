#!/usr/bin/env bash
# Builds hack/argocd (Argo CD's own health assessment, github.com/argoproj/argo-cd/v3 as pinned in
# go.mod) into the cache, keyed by the module's content and this script, and prints the binary's
# path; progress goes to stderr. argo-cd v3.6 says `go 1.27.0`, so this script (only this script)
# runs the go command with GOTOOLCHAIN=go1.27.3, which the go command fetches from the Go module
# proxy like any module; GOMODCACHE and GOCACHE are the go command's defaults, shared by clones.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${RRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rrsa-operator}
key=$(cd "$here" && cat go.mod go.sum main.go build.sh | sha256sum | cut -c1-16)
bin="$cache_root/argocd-health/$key/argocd-health"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "argocd/build.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$(dirname "$bin")"
exec 9>"$(dirname "$bin")/.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
export GOTOOLCHAIN=go1.27.3 GOFLAGS=-mod=readonly CGO_ENABLED=0
start=$(date +%s)
echo "argocd/build.sh: building Argo CD's health assessment (argo-cd $(cd "$here" && go list -m -f '{{.Version}}' github.com/argoproj/argo-cd/v3)); a cold build takes minutes on 2 cores" >&2
(cd "$here" && go build -trimpath -ldflags "-s -w" -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
echo "argocd/build.sh: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
