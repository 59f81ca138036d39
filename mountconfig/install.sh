#!/bin/sh
# Install the cvmfs-swift mount configuration:
#   <prefix>/etc/cvmfs/{default.conf,default.d,domain.d,config.d,keys}
#   <prefix>/sbin/mount.cvmfs, <prefix>/usr/bin/cvmfs_config, <prefix>/etc/auto.cvmfs
# usage: install.sh [--prefix DIR]   (DESTDIR is honoured as well)
# Existing *.local files are never touched; other shipped files are replaced.
set -eu

prefix=${DESTDIR:-}
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || { echo "--prefix needs a directory" >&2; exit 1; }
              prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
done
prefix=${prefix%/}
src=$(cd "$(dirname "$0")" && pwd)
etc=$prefix/etc/cvmfs

install_file() { # mode source destination
  case $3 in
    *.local) [ -e "$3" ] && { echo "keeping $3"; return 0; } ;;
  esac
  mkdir -p "$(dirname "$3")"
  cp "$2" "$3.tmp.$$" && chmod "$1" "$3.tmp.$$" && mv -f "$3.tmp.$$" "$3"
}

mkdir -p "$etc/default.d" "$etc/domain.d" "$etc/config.d" "$etc/keys"
install_file 0644 "$src/default.conf" "$etc/default.conf"
for f in "$src"/default.d/* "$src"/domain.d/* "$src"/config.d/*; do
  [ -f "$f" ] || continue
  rel=${f#"$src"/}
  install_file 0644 "$f" "$etc/$rel"
done
for f in "$src"/keys/*/*.pub; do
  [ -f "$f" ] || continue
  rel=${f#"$src"/}
  install_file 0444 "$f" "$etc/$rel"
done
install_file 0755 "$src/mount.cvmfs" "$prefix/sbin/mount.cvmfs"
install_file 0755 "$src/cvmfs_config" "$prefix/usr/bin/cvmfs_config"
install_file 0755 "$src/auto.cvmfs" "$prefix/etc/auto.cvmfs"
echo "installed cvmfs-swift configuration under ${prefix:-/}"
