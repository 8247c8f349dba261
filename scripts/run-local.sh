#!/usr/bin/env bash
# Runs the whole thing locally: installs what is missing, builds, starts a throwaway PostgreSQL 15
# with the migrations applied, fcgiwrap and nginx on 127.0.0.1, and prints the URL and a signed
# curl line. Ctrl-C stops everything and removes the state directory.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

cw_install_packages
cw_build
cw_setup_state
cw_start_postgres
cw_create_database clerk_webhook
database_url=$(cw_database_url clerk_webhook)
cw_apply_migrations "$database_url"
secret=$(cw_new_secret)
cw_start_web "$database_url" "$secret"

cat <<TEXT

clerk-webhook is listening at  $CW_URL
database                       psql '$database_url'
logs (one JSON line each)      $CW_NGINX_PREFIX/error.log
signing secret                 $secret

Send a signed user.created (signatures expire after 5 minutes; re-run the sign command for a new one):

  export CLERK_WEBHOOK_SIGNING_SECRET='$secret'
  $(CLERK_WEBHOOK_SIGNING_SECRET=$secret "$CW_BIN_DIR/clerk-sync" sign "$CW_ROOT/fixtures/user.created.json" --curl "$CW_URL")

Then:  psql '$database_url' -c 'table public.users'

Press Ctrl-C to stop.
TEXT
# wait (not a foreground sleep) so Ctrl-C and SIGTERM run the cleanup trap at once.
while true; do
    sleep 3600 &
    CW_PIDS+=("$!")
    wait "$!"
done
