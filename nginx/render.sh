#!/usr/bin/env bash
# Renders an nginx template by replacing @NAME@ placeholders with NAME=value arguments.
#   nginx/render.sh nginx/clerk-webhook.conf.in LISTEN=127.0.0.1:8080 \
#       BINARY=/usr/local/bin/clerk-webhook FCGI_SOCKET=/run/clerk-webhook/workers.sock > /etc/nginx/conf.d/clerk-webhook.conf
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 TEMPLATE NAME=value..." >&2
    exit 2
fi
template=$1
shift
text=$(<"$template")
for assignment in "$@"; do
    name=${assignment%%=*}
    value=${assignment#*=}
    text=${text//@"$name"@/$value}
done
if [[ $text =~ @[A-Z_]+@ ]]; then
    echo "render.sh: $template still has ${BASH_REMATCH[0]} unset" >&2
    exit 1
fi
printf '%s\n' "$text"
