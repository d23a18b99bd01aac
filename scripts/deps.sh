#!/bin/sh
# Install the Debian packages opsbase needs, saying what it installs.
#   deps.sh run   - what building and running needs
#   deps.sh test  - plus what the tests need
set -e
mode=${1:-run}
pkgs="pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev libsodium-dev liboath-dev uuid-dev libpq-dev"
pkgs="$pkgs libunistring-dev"
if [ "$mode" = test ]; then
    pkgs="$pkgs libcmocka-dev python3 python3-pytest python3-httpx curl postgresql clang libclang-rt-14-dev"
    pkgs="$pkgs valgrind slowhttptest strace wrk procps"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "opsbase: installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "opsbase: installed:$missing"
