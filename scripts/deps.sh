#!/bin/sh
# Installs what building and testing mvpmu needs on Debian 12, or, when not
# root, prints the exact apt-get line and fails.
set -u
PKGS="libcmocka-dev libjansson-dev libyaml-dev pkg-config"
missing=""
have_header() { printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null 2>&1; }
have_header stdarg.h || true
printf '#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <setjmp.h>\n#include <cmocka.h>\n' \
  | cc -E -x c - >/dev/null 2>&1 || missing="$missing libcmocka-dev"
have_header jansson.h || missing="$missing libjansson-dev"
have_header yaml.h || missing="$missing libyaml-dev"
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
