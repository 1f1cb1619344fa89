#!/usr/bin/env bash
# Builds Flux's source-controller and kustomize-controller at the versions pinned in versions.env
# from the Go module proxy, each through its wrapper module (<controller>/go.mod and go.sum, made
# by gen-modules.sh), and caches them outside the repo in a directory keyed by the hash of this
# script and those files, so every clone on this machine reuses them; GOMODCACHE and GOCACHE are
# the go command's defaults, so a rebuild after a bump only compiles what changed. Prints the cache
# directory on stdout (bin/ holds the two binaries, crds/ Flux's CRDs from each controller's
# config/crd/bases, as its release manifests install them); progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache_root=${RRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rrsa-operator}
key=$(cd "$here" && cat versions.env build.sh source-controller/go.mod source-controller/go.sum \
  kustomize-controller/go.mod kustomize-controller/go.sum | sha256sum | cut -c1-16)
out="$cache_root/flux/$key"
done_marker="$out/.complete"
if [ -f "$done_marker" ]; then echo "$out"; exit 0; fi

command -v go >/dev/null || { echo "flux/build.sh: Go is required to build Flux's controllers (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$out"
# One build at a time per cache dir (parallel test runs, CI and a developer shell).
exec 9>"$out/.lock"
flock 9
if [ -f "$done_marker" ]; then echo "$out"; exit 0; fi

export GOFLAGS=-mod=readonly CGO_ENABLED=0
start=$(date +%s)
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/crds"
for pair in "source-controller:$SOURCE_CONTROLLER_VERSION" "kustomize-controller:$KUSTOMIZE_CONTROLLER_VERSION"; do
  name=${pair%%:*} version=${pair#*:}
  mod=github.com/fluxcd/$name
  echo "flux/build.sh: building $name $version; a cold build takes a while on 2 cores" >&2
  [ "$(cd "$here/$name" && go list -m -f '{{.Version}}' "$mod")" = "$version" ] \
    || { echo "flux/build.sh: $name/go.mod is not for $version: run hack/flux/gen-modules.sh" >&2; exit 1; }
  t0=$(date +%s)
  (cd "$here/$name" && go build -trimpath -ldflags "-s -w" -o "$tmp/bin/$name" "$mod")
  dir=$(cd "$here/$name" && go list -m -f '{{.Dir}}' "$mod")
  echo "flux/build.sh: $name built in $(( $(date +%s) - t0 ))s" >&2
  cp "$dir"/config/crd/bases/*.yaml "$tmp/crds/"
done
chmod -R u+w "$tmp"
rm -rf "$out/bin" "$out/crds"
mv "$tmp/bin" "$tmp/crds" "$out/"
touch "$done_marker"
echo "flux/build.sh: built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
