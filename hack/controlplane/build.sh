#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl (version-matched) and etcd from the Go module proxy at the pinned
# versions in versions.env and caches them outside the repo (keyed by version), so every clone on
# this machine reuses them. Prints the bin directory on stdout; progress goes to stderr.
# With --node it also builds what a real node needs (kubelet, kube-scheduler; hack/node/), from
# the same module, so the second build reuses the first one's compiled packages.
#
# The recipe is the one from kubernetes/kubernetes#79384: k8s.io/kubernetes requires its staging
# modules at v0.0.0 with `replace => ./staging/...`, and replaces in a dependency are ignored, so
# our own go.mod replaces each staging module with its published v0.Y.Z tag.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache_root=${RRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rrsa-operator}
bin="$cache_root/controlplane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION/bin"
want=(kube-apiserver kube-controller-manager kubectl etcd)
node_parts=(kubelet kube-scheduler)
[ "${1:-}" = "--node" ] && want+=("${node_parts[@]}")

have_all() { for b in "${want[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build.sh: Go is required to build the local control plane (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$bin"
# One build at a time per cache dir (parallel test runs, CI and a developer shell).
exec 9>"$bin/.lock"
flock 9
if have_all; then echo "$bin"; exit 0; fi

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for comp in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $comp.gitVersion=$K8S_VERSION -X $comp.gitMajor=1 -X $comp.gitMinor=$minor"
  ldflags+=" -X $comp.gitTreeState=clean"
done
start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "${1:-}" = "--node" ] && [ -x "$bin/etcd" ] && [ -x "$bin/kube-apiserver" ] \
  && [ -x "$bin/kube-controller-manager" ] && [ -x "$bin/kubectl" ]; then
  echo "build.sh: building kubelet and kube-scheduler ($K8S_VERSION)" >&2
  ( cd "$here/module" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler )
  mv "$tmp/kubelet" "$tmp/kube-scheduler" "$bin/"
  echo "build.sh: built in $(( $(date +%s) - start ))s into $bin" >&2
  echo "$bin"
  exit 0
fi
echo "build.sh: building kube-apiserver, kube-controller-manager, kubectl ($K8S_VERSION) and etcd ($ETCD_VERSION); a cold build takes a while on 2 cores" >&2
( cd "$here/module" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl \
    go.etcd.io/etcd/server/v3 )
mv "$tmp/kube-apiserver" "$tmp/kube-controller-manager" "$tmp/kubectl" "$bin/"
mv "$tmp/server" "$bin/etcd"
echo "build.sh: built in $(( $(date +%s) - start ))s into $bin" >&2
# A --node build on a cold cache: the control plane first, then the node parts over its packages.
if [ "${1:-}" = "--node" ]; then exec 9>&-; exec bash "$0" --node; fi
echo "$bin"
