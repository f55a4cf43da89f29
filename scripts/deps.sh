#!/bin/sh
# Installs what building and testing mvpmu needs on Debian 12, or, when not
# root, prints the exact apt-get line and fails.
set -u
# libunicorn-dev: the CPU of real-code guests (docs/realcode.md);
# libzydis-dev: their instruction decoder; libelf-dev: ELF images and
# their symbols; gcc builds the guest programs (guest/).
PKGS="libcmocka-dev libjansson-dev libyaml-dev pkg-config libunicorn-dev libzydis-dev libelf-dev gcc"
missing=""
have_header() { printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null 2>&1; }
have_header stdarg.h || true
printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>\n' \
  | cc -E -x c - >/dev/null 2>&1 || missing="$missing libcmocka-dev"
have_header jansson.h || missing="$missing libjansson-dev"
have_header yaml.h || missing="$missing libyaml-dev"
have_header unicorn/unicorn.h || missing="$missing libunicorn-dev"
have_header Zydis/Zydis.h || missing="$missing libzydis-dev"
have_header libelf.h || missing="$missing libelf-dev"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $missing >/dev/null && exit 0
	echo "deps: apt-get failed" >&2
	exit 1
fi
echo "deps: missing$missing; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 1
