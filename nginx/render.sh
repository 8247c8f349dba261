#!/usr/bin/env bash
# Renders an nginx template by replacing @NAME@ placeholders with NAME=value arguments.
#   nginx/render.sh nginx/clerk-webhook.conf.in LISTEN=127.0.0.1:8080 \
#       BINARY=/usr/local/bin/clerk-webhook FCGI_SOCKET=/run/clerk-webhook/workers.sock > /etc/nginx/conf.d/clerk-webhook.conf
# With --locations, only the part between the template's "clerk-webhook locations: begin" and
# "... end" lines, to include in a server block of your own (LISTEN is then not needed):
#   nginx/render.sh --locations nginx/clerk-webhook.conf.in BINARY=/usr/local/bin/clerk-webhook \
#       FCGI_SOCKET=/run/clerk-webhook/workers.sock > /etc/nginx/snippets/clerk-webhook.conf
set -euo pipefail

locations=0
if [[ ${1:-} == --locations ]]; then
    locations=1
    shift
fi
if [[ $# -lt 1 ]]; then
    echo "usage: $0 [--locations] TEMPLATE NAME=value..." >&2
    exit 2
fi
template=$1
shift
text=$(<"$template")
if ((locations)); then
    begin='# --- clerk-webhook locations: begin ---'
    end='# --- clerk-webhook locations: end ---'
    if [[ $text != *"$begin"*"$end"* ]]; then
        echo "render.sh: $template has no clerk-webhook locations part" >&2
        exit 1
    fi
    text=${text#*"$begin"}
    text=${text%%"$end"*}
    # Drop the marker lines' line ends and the end marker's indentation.
    text=${text%"${text##*[!\ ]}"}
    text=${text%$'\n'}
    text=${text#$'\n'}
fi
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
