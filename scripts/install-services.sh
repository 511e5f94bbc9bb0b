#!/usr/bin/env sh
# Installs the real services the probe tests run against: Debian's nginx, dnsmasq
# and Node (only the binaries; the tests start and stop their own instances).
set -eu
need=""
# nginx-light brings the echo module the tests use for delayed answers.
[ -x /usr/sbin/nginx ] && [ -e /usr/lib/nginx/modules/ngx_http_echo_module.so ] || need="$need nginx-light"
[ -x /usr/sbin/dnsmasq ] || need="$need dnsmasq-base"
# Node's http module sends 103 Early Hints (res.writeEarlyHints, Node 18.11 and later).
[ -x /usr/bin/node ] || need="$need nodejs"
[ -n "$need" ] || exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $need \
  || { $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends $need; }
