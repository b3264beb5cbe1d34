#!/usr/bin/env bash
# Builds the local test images the node agent's Docker runtime and its tests
# use, without any registry:
#   helmsman/busybox:1.35  a rootfs of the host's static busybox with applet
#                          symlinks (sh, sleep, httpd, nc, ...); CMD sh
#   helmsman/pause:3.10    the same rootfs; CMD is the sandbox keep-alive
#                          loop (sleeps forever, exits 0 on SIGTERM)
#
# Idempotent: an image that already exists is skipped unless --force.
# Needs: a reachable Docker engine; /bin/busybox from Debian's busybox-static
# (installed with apt-get when missing and we are root).
#
# Usage: build-images.sh [--force]
set -euo pipefail

BUSYBOX_IMAGE="helmsman/busybox:1.35"
PAUSE_IMAGE="helmsman/pause:3.10"
PAUSE_CMD='["/bin/sh","-c","trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait; done"]'

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-images: unknown argument: $arg (usage: $0 [--force])" >&2; exit 2 ;;
  esac
done

say() { echo "build-images: $*"; }
die() { echo "build-images: error: $*" >&2; exit 1; }

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed"
if ! docker_err=$(docker info --format '{{.ServerVersion}}' 2>&1 >/dev/null); then
  die "Docker engine unreachable (${docker_err//$'\n'/ }); start the Docker daemon and retry"
fi

exists() { docker image inspect "$1" >/dev/null 2>&1; }

need=()
for img in "$BUSYBOX_IMAGE" "$PAUSE_IMAGE"; do
  if [[ $force -eq 0 ]] && exists "$img"; then
    say "$img already present, skipping (use --force to rebuild)"
  else
    need+=("$img")
  fi
done
[[ ${#need[@]} -eq 0 ]] && { say "nothing to do"; exit 0; }

# A static busybox, so the rootfs needs no shared libraries.
busybox_bin=""
for cand in /bin/busybox /usr/bin/busybox; do
  if [[ -x $cand ]]; then busybox_bin=$cand; break; fi
done
if [[ -z $busybox_bin ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing busybox-static with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static >/dev/null || die "apt-get install busybox-static failed"
    busybox_bin=/bin/busybox
  else
    die "no busybox found; install Debian's busybox-static (apt-get install busybox-static)"
  fi
fi
if command -v file >/dev/null 2>&1 && ! file -L "$busybox_bin" | grep -q 'statically linked'; then
  die "$busybox_bin is not statically linked; install Debian's busybox-static instead of busybox"
fi
say "using $busybox_bin ($("$busybox_bin" 2>&1 | head -n1))"

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,root,proc,sys,dev,run}
chmod 1777 "$rootfs/tmp"
cp "$busybox_bin" "$rootfs/bin/busybox"
# One relative symlink per applet (what `busybox --install -s` does, but
# independent of where the host's busybox lives).
applets=0
while read -r applet; do
  [[ -z $applet || $applet == busybox ]] && continue
  [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
  applets=$((applets + 1))
done < <("$rootfs/bin/busybox" --list)
for a in sh sleep httpd nc cat echo ls touch mkdir env wc true false grep test kill; do
  [[ -e $rootfs/bin/$a ]] || die "busybox has no applet $a"
done
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
say "rootfs with $applets applet links in $rootfs"

import() { # image, CMD json
  say "importing $1 (CMD $2)"
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf - . |
    docker import --change "CMD $2" --change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' - "$1" >/dev/null
  say "built $1 ($(docker image inspect --format '{{.Id}}' "$1"))"
}

for img in "${need[@]}"; do
  case "$img" in
    "$BUSYBOX_IMAGE") import "$img" '["/bin/sh"]' ;;
    "$PAUSE_IMAGE") import "$img" "$PAUSE_CMD" ;;
  esac
done
say "done"
