#!/usr/bin/env bash
# Installs what a local node needs from Debian's packages (as root): containerd (CRI), runc,
# the CNI plugins (bridge, host-local), buildah (builds the images from the Dockerfiles) and
# debootstrap (makes the base image's root file system). Idempotent: skips what is there.
set -euo pipefail
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v buildah >/dev/null || need+=(buildah)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install.sh: installing ${need[*]} needs root (apt-get); run it as root" >&2
  exit 1
fi
echo "install.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
