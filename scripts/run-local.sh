#!/usr/bin/env bash
# Runs the whole thing locally: installs what is missing, builds, starts a throwaway PostgreSQL 15
# with the migrations applied, the workers and nginx on 127.0.0.1, and prints the URL and a signed
# curl line. Ctrl-C stops everything and removes the state directory.
#   scripts/run-local.sh [cgi|warm|persistent]     (default: cgi)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

mode=${1:-cgi}
cw_install_packages
cw_build
cw_setup_state
cw_start_postgres
cw_create_database clerk_webhook
database_url=$(cw_database_url clerk_webhook)
# With clerk-sync, as the README has it, so `clerk-sync status` finds them recorded.
DATABASE_URL=$database_url CLERK_SYNC_MIGRATIONS_DIR=$CW_ROOT/supabase/migrations "$CW_BIN_DIR/clerk-sync" migrate
# The webhook connects the way the README recommends: as its own login, which may only run the
# functions it sends (clerk_webhook_writer). The cluster is throwaway, so the role is too.
cw_psql "$CW_ADMIN_URL" -c "CREATE ROLE clerk_webhook_login LOGIN IN ROLE clerk_webhook_writer"
secret=$(cw_new_secret)
cw_stage_files
cw_start_web "$mode" "$(cw_database_url clerk_webhook clerk_webhook_login)" "$secret"

cat <<TEXT

clerk-webhook ($mode mode) is at $CW_URL
health                         $CW_URL/health
database (owner)               psql '$database_url'
the webhook connects as        clerk_webhook_login (a member of clerk_webhook_writer)
logs (one JSON line each)      $CW_WEBHOOK_LOG
signing secret                 $secret

Send a signed user.created (signatures expire after 5 minutes; re-run the sign command for a new one):

  export CLERK_WEBHOOK_SIGNING_SECRET='$secret'
  $(CLERK_WEBHOOK_SIGNING_SECRET=$secret "$CW_BIN_DIR/clerk-sync" sign "$CW_ROOT/fixtures/user.created.json" --curl "$CW_URL")

Then:  psql '$database_url' -c 'table public.users'
       DATABASE_URL='$database_url' $CW_BIN_DIR/clerk-sync status

Press Ctrl-C to stop.
TEXT
# wait (not a foreground sleep) so Ctrl-C and SIGTERM run the cleanup trap at once.
while true; do
    sleep 3600 &
    CW_PIDS+=("$!")
    wait "$!"
done
