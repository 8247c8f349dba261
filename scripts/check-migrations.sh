#!/usr/bin/env bash
# Applies supabase/migrations twice to (1) a database shaped like a Supabase project, with its
# roles and auth.jwt(), and (2) a database that already holds the seed's table and rows; then
# checks what a user would observe: rows kept, defaults filled, RLS by Clerk id.
#   check-migrations.sh ADMIN_URL SOCKET_DIR PORT
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
CW_ADMIN_URL=$1
CW_STATE=$2
CW_PG_PORT=$3

expect() {
    local what=$1 expected=$2 actual=$3
    if [[ $actual != "$expected" ]]; then
        echo "check-migrations: $what: expected '$expected', got '$actual'" >&2
        exit 1
    fi
}

query() { cw_psql "$1" -tA -c "$2"; }

# (1) Supabase-like: the objects Supabase creates before any project migration runs.
cw_create_database supabase_like
supabase_url=$(cw_database_url supabase_like)
cw_psql "$supabase_url" <<'SQL'
-- Roles are per cluster, so an earlier database's migrations may have created them already.
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        END IF;
    END LOOP;
END
$$;
CREATE SCHEMA auth;
CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                    nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(auth.jwt() ->> 'sub', '')::uuid
$$;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
SQL
cw_apply_migrations "$supabase_url"
cw_apply_migrations "$supabase_url"
cw_psql "$supabase_url" -c "INSERT INTO public.users (clerk_id, email, \"updatedAt\") VALUES
    ('user_2aaa', 'a@example.com', now()), ('user_2bbb', 'b@example.com', now())"
as_user_a="SET ROLE authenticated; SET request.jwt.claims = '{\"sub\":\"user_2aaa\",\"role\":\"authenticated\"}';"
expect "authenticated reads only their own row" "user_2aaa" \
    "$(query "$supabase_url" "$as_user_a SELECT string_agg(clerk_id, ',') FROM public.users")"
expect "authenticated updates only their own row" "user_2aaa" \
    "$(query "$supabase_url" "$as_user_a UPDATE public.users SET preferences = '{}' RETURNING clerk_id")"
expect "authenticated cannot update another user's row" "" \
    "$(query "$supabase_url" "$as_user_a UPDATE public.users SET preferences = '{}' WHERE clerk_id = 'user_2bbb' RETURNING clerk_id")"
for change in "role = 'admin'" "clerk_id = 'user_2ccc'" "deleted_at = now()" "deleted_at = NULL"; do
    if query "$supabase_url" "$as_user_a UPDATE public.users SET $change" 2>/dev/null; then
        echo "check-migrations: authenticated could run SET $change on its own row" >&2
        exit 1
    fi
done
expect "role, clerk_id and deleted_at unchanged" "user_2aaa user" \
    "$(query "$supabase_url" "SELECT clerk_id || ' ' || role FROM public.users WHERE email = 'a@example.com' AND deleted_at IS NULL")"
expect "anon reads nothing" "denied" \
    "$(query "$supabase_url" "SET ROLE anon; SELECT count(*) FROM public.users" 2>/dev/null || echo denied)"
for role in anon authenticated; do
    expect "$role cannot call the sync function" "denied" \
        "$(query "$supabase_url" "SET ROLE $role; SELECT clerk_webhook.apply_user_event('msg_x', 'user.created', 'upsert', 'user_2bbb', 99, 'x@example.com', 'X')" 2>/dev/null || echo denied)"
done
# The webhook's least-privilege login: the functions it sends, nothing else. Roles are per cluster.
cw_psql "$CW_ADMIN_URL" -c "DROP ROLE IF EXISTS clerk_webhook_check; CREATE ROLE clerk_webhook_check NOLOGIN IN ROLE clerk_webhook_writer"
as_writer="SET ROLE clerk_webhook_check;"
expect "the writer warms up" "warm" "$(query "$supabase_url" "$as_writer SELECT clerk_webhook.warm_up()")"
expect "the writer applies a delivery" "applied" \
    "$(query "$supabase_url" "$as_writer SELECT clerk_webhook.apply_user_event('msg_w', 'user.updated', 'upsert', 'user_2bbb', 99, 'b2@example.com', 'B')")"
expect "the writer records a failed delivery" "recorded" \
    "$(query "$supabase_url" "$as_writer SELECT clerk_webhook.record_rejection('msg_r', 'user.updated', 'user_2bbb', 400, 'test', NULL)")"
for statement in "SELECT count(*) FROM public.users" "UPDATE public.users SET role = 'admin'" \
    "SELECT count(*) FROM clerk_webhook.deliveries" "DELETE FROM clerk_webhook.deliveries" \
    "SELECT clerk_webhook.resync_user('user_2bbb', 100, NULL, NULL)" \
    "SELECT clerk_webhook.apply_user_snapshot('user_2bbb', 99, NULL, NULL)"; do
    expect "the writer cannot run: $statement" "denied" \
        "$(query "$supabase_url" "$as_writer $statement" 2>/dev/null || echo denied)"
done
expect "the writer's delivery applied under the rules" "b2@example.com user" \
    "$(query "$supabase_url" "SELECT email || ' ' || role FROM public.users WHERE clerk_id = 'user_2bbb'")"
cw_psql "$CW_ADMIN_URL" -c "DROP ROLE clerk_webhook_check"

# (2) An existing project: the seed's table with rows, before any of our migrations.
cw_create_database seeded
seeded_url=$(cw_database_url seeded)
cw_psql "$seeded_url" <<'SQL'
CREATE TYPE "UserRole" AS ENUM ('user', 'admin');
CREATE TABLE public.users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    clerk_id text NULL DEFAULT 'NULL'::text,
    email text NULL,
    name text NULL,
    role "UserRole" NOT NULL DEFAULT 'user',
    "createdAt" timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamp NOT NULL,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    CONSTRAINT User_pkey PRIMARY KEY (id),
    CONSTRAINT User_clerkId_key UNIQUE (clerk_id),
    CONSTRAINT User_email_key UNIQUE (email)
);
INSERT INTO public.users (clerk_id, email, name, role, "updatedAt")
VALUES ('user_seed1', 'seed1@example.com', 'Seed One', 'admin', now()),
       ('user_seed2', 'seed2@example.com', 'Seed Two', 'user', now());
SQL
cw_apply_migrations "$seeded_url"
cw_apply_migrations "$seeded_url"
expect "seeded rows are kept with their roles" "user_seed1 admin A1C|user_seed2 user A1C" \
    "$(query "$seeded_url" "SELECT string_agg(clerk_id || ' ' || role || ' ' || (preferences->>'displayUnit'), '|' ORDER BY clerk_id) FROM public.users")"
expect "seeded database applies events" "applied" \
    "$(query "$seeded_url" "SELECT clerk_webhook.apply_user_event('msg_seed', 'user.updated', 'upsert', 'user_seed1', 1, 'seed1@example.com', 'Seed Renamed')")"
expect "role survives a sync" "admin Seed Renamed" \
    "$(query "$seeded_url" "SELECT role || ' ' || name FROM public.users WHERE clerk_id = 'user_seed1'")"
echo "migrations: empty, Supabase-like and seeded databases, each twice: ok" >&2
