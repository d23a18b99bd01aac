#!/bin/sh
# Install the Debian packages opsbase needs, saying what it installs, and for
# the tests the npm packages of tools/openapi-lint.
#   deps.sh run   - what building and running needs
#   deps.sh test  - plus what the tests need
#   deps.sh console - plus Node.js and the console's npm packages (web/)
set -e
mode=${1:-run}
pkgs="pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev libsodium-dev liboath-dev uuid-dev libpq-dev"
pkgs="$pkgs libunistring-dev libzstd-dev libcurl4-openssl-dev libmagic-dev libxlsxwriter-dev libhpdf-dev"
# image variants (libvips) and OCR (Tesseract with its English data; PDF pages rendered by poppler on cairo)
pkgs="$pkgs libvips-dev libtesseract-dev tesseract-ocr-eng libpoppler-glib-dev libcairo2-dev"
if [ "$mode" = test ]; then
    pkgs="$pkgs libcmocka-dev python3 python3-pytest python3-pytest-xdist python3-httpx curl postgresql clang libclang-rt-14-dev"
    pkgs="$pkgs valgrind slowhttptest strace wrk procps prometheus"
    # backups and exports are zstd files: the secrets tests read them back with the zstd tool
    pkgs="$pkgs zstd"
    # the console's browser tests drive Debian's Chromium (tests/console)
    pkgs="$pkgs chromium fonts-dejavu-core"
fi
# The OpenAPI linters run on Node.js; a node from elsewhere (nvm, NodeSource)
# is used as it is, else Debian's nodejs and npm are installed.
if { [ "$mode" = test ] || [ "$mode" = console ]; } && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
    pkgs="$pkgs nodejs npm"
fi
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "opsbase: installing Debian packages:$missing"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    echo "opsbase: installed:$missing"
fi
# npm packages at the versions package-lock.json pins, when not yet installed
lint="$(dirname "$0")/../tools/openapi-lint"
if [ "$mode" = test ]; then
    if [ ! -x "$lint/node_modules/.bin/redocly" ] || [ ! -x "$lint/node_modules/.bin/spectral" ]; then
        echo "opsbase: installing the OpenAPI linters (npm ci in tools/openapi-lint)"
        (cd "$lint" && npm ci --no-audit --no-fund)
    fi
fi
# the console's packages (esbuild, TypeScript, Preact, playwright-core) as
# web/package-lock.json pins them
web="$(dirname "$0")/../web"
if [ "$mode" = test ] || [ "$mode" = console ]; then
    # installed again whenever package-lock.json changed since the last install
    # (a copy of it is kept in node_modules), so a new package reaches old checkouts
    if ! cmp -s "$web/package-lock.json" "$web/node_modules/.opsbase-installed-lock"; then
        echo "opsbase: installing the console's packages (npm ci in web)"
        (cd "$web" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.opsbase-installed-lock)
    fi
fi
