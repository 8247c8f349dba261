-- What the webhook needs to keep public.users equal to Clerk under Svix delivery: at least once,
-- retried for about a day, in no particular order.
--
-- Every delivery is ONE statement, `SELECT clerk_webhook.apply_user_event(...)`: one round trip,
-- atomic (ledger and row change commit together or not at all), no session state, so it works
-- through PgBouncer/Supavisor in transaction mode. The sync objects live in their own schema,
-- which Supabase's Data API does not expose.

CREATE SCHEMA IF NOT EXISTS clerk_webhook;
REVOKE ALL ON SCHEMA clerk_webhook FROM PUBLIC;

-- The Clerk updated_at (ms) of the newest event a row reflects: older events never overwrite it.
ALTER TABLE public.users ADD COLUMN IF NOT EXISTS clerk_updated_at_ms bigint;
COMMENT ON COLUMN public.users.clerk_updated_at_ms IS
    'data.updated_at (ms since epoch) of the newest Clerk event applied to this row; orders deliveries.';

-- The ledger: one row per svix message id applied. A redelivered id has no further effect.
-- email and name are what the event carried, kept so `clerk-sync replay` can apply it again.
CREATE TABLE IF NOT EXISTS clerk_webhook.deliveries (
    svix_id text PRIMARY KEY,
    event_type text NOT NULL,
    action text NOT NULL,
    clerk_id text NOT NULL,
    event_updated_at_ms bigint,
    email text,
    name text,
    outcome text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS deliveries_received_at_idx ON clerk_webhook.deliveries (received_at);
CREATE INDEX IF NOT EXISTS deliveries_clerk_id_idx ON clerk_webhook.deliveries (clerk_id);

-- Deliveries that were signed but could not be applied (400 malformed, 500 permanent database
-- error), recorded best-effort by the webhook for `clerk-sync events --failed` and `status`.
-- Unsigned requests (401) are never written: anyone on the internet could fill the table.
CREATE TABLE IF NOT EXISTS clerk_webhook.rejections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    svix_id text NOT NULL,
    event_type text,
    clerk_id text,
    http_status integer NOT NULL,
    reason text NOT NULL,
    sqlstate text,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rejections_received_at_idx ON clerk_webhook.rejections (received_at);

CREATE OR REPLACE FUNCTION clerk_webhook.record_rejection(
    p_svix_id text, p_event_type text, p_clerk_id text, p_http_status integer, p_reason text, p_sqlstate text
) RETURNS text
LANGUAGE sql
SET search_path = pg_catalog
AS $fn$
    INSERT INTO clerk_webhook.rejections (svix_id, event_type, clerk_id, http_status, reason, sqlstate)
    VALUES (p_svix_id, p_event_type, p_clerk_id, p_http_status, left(p_reason, 500), p_sqlstate)
    RETURNING 'recorded';
$fn$;
REVOKE ALL ON FUNCTION clerk_webhook.record_rejection(text, text, text, integer, text, text) FROM PUBLIC;

-- Applies one Clerk user event and returns the outcome: applied | stale | duplicate | ignored.
--
--   p_svix_id        the message id (ledger key); NULL for applies that are not deliveries
--   p_event_type     the envelope type, recorded in the ledger
--   p_action         'upsert' (user.created/updated), 'delete' (user.deleted) or 'ignore'
--   p_clerk_id       data.id
--   p_updated_at_ms  data.updated_at for upserts
--   p_email, p_name  the primary email and display name for upserts (NULL when absent)
--
-- Rules:
--   * duplicates: a svix id already in the ledger changes nothing;
--   * order: an upsert no newer than the row's clerk_updated_at_ms changes nothing;
--   * delete is terminal: it sets deleted_at, keeps the row, and nothing clears it again; a delete
--     that arrives before the user's create leaves a tombstone row, so the late create cannot
--     revive the user (it fills in the data, the row stays deleted);
--   * role is never written (the column default applies on insert);
--   * email uniqueness: when another row holds the incoming email, a live user beats a deleted
--     one, otherwise the newer claim (updated_at, then clerk_id) wins; the loser's email becomes
--     NULL until its own newer event arrives. Never an error, so never a retry loop.
CREATE OR REPLACE FUNCTION clerk_webhook.apply_user_event(
    p_svix_id text,
    p_event_type text,
    p_action text,
    p_clerk_id text,
    p_updated_at_ms bigint,
    p_email text,
    p_name text
) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_own public.users%ROWTYPE;
    v_holder public.users%ROWTYPE;
    v_email text;
    v_claim_wins boolean;
    v_outcome text;
    v_attempt integer := 0;
    v_now_utc timestamp := now() AT TIME ZONE 'utc';
BEGIN
    -- Bounded waits: a delivery must answer well inside Svix's 15 s timeout. Transaction-local.
    PERFORM set_config('lock_timeout', '5s', true);

    IF p_action IS NULL OR p_action NOT IN ('upsert', 'delete', 'ignore') THEN
        RAISE EXCEPTION 'apply_user_event: unknown action' USING ERRCODE = '22023';
    END IF;
    IF p_clerk_id IS NULL OR p_clerk_id = '' THEN
        RAISE EXCEPTION 'apply_user_event: missing Clerk id' USING ERRCODE = '22023';
    END IF;
    IF p_action = 'upsert' AND p_updated_at_ms IS NULL THEN
        RAISE EXCEPTION 'apply_user_event: upsert without updated_at' USING ERRCODE = '22023';
    END IF;

    IF p_svix_id IS NOT NULL THEN
        -- A concurrent delivery of the same id waits here for the first to commit, then sees it.
        INSERT INTO clerk_webhook.deliveries
            (svix_id, event_type, action, clerk_id, event_updated_at_ms, email, name, outcome)
        VALUES (p_svix_id, coalesce(p_event_type, ''), p_action, p_clerk_id, p_updated_at_ms, p_email, p_name, 'pending')
        ON CONFLICT (svix_id) DO NOTHING;
        IF NOT FOUND THEN
            RETURN 'duplicate';
        END IF;
    END IF;

    IF p_action = 'ignore' THEN
        v_outcome := 'ignored';

    ELSIF p_action = 'delete' THEN
        UPDATE public.users
           SET deleted_at = now(), updated_at = now(), "updatedAt" = v_now_utc
         WHERE clerk_id = p_clerk_id AND deleted_at IS NULL;
        IF FOUND THEN
            v_outcome := 'applied';
        ELSE
            -- Already deleted, or the delete overtook the create: leave a tombstone.
            INSERT INTO public.users (clerk_id, "updatedAt", deleted_at)
            VALUES (p_clerk_id, v_now_utc, now())
            ON CONFLICT (clerk_id) DO NOTHING;
            v_outcome := CASE WHEN FOUND THEN 'applied' ELSE 'stale' END;
        END IF;

    ELSE
        LOOP
            v_attempt := v_attempt + 1;
            BEGIN
                SELECT * INTO v_own FROM public.users WHERE clerk_id = p_clerk_id FOR UPDATE;
                IF FOUND AND v_own.clerk_updated_at_ms >= p_updated_at_ms THEN
                    v_outcome := 'stale';
                    EXIT;
                END IF;

                v_email := p_email;
                IF v_email IS NOT NULL THEN
                    SELECT * INTO v_holder FROM public.users
                     WHERE email = v_email AND clerk_id IS DISTINCT FROM p_clerk_id
                       FOR UPDATE;
                    IF FOUND THEN
                        v_claim_wins := CASE
                            WHEN v_holder.deleted_at IS NOT NULL AND v_own.deleted_at IS NULL THEN true
                            WHEN v_holder.deleted_at IS NULL AND v_own.deleted_at IS NOT NULL THEN false
                            WHEN v_holder.clerk_updated_at_ms IS NULL THEN true
                            ELSE (p_updated_at_ms, p_clerk_id) > (v_holder.clerk_updated_at_ms, v_holder.clerk_id)
                        END;
                        IF v_claim_wins THEN
                            UPDATE public.users
                               SET email = NULL, updated_at = now(), "updatedAt" = v_now_utc
                             WHERE id = v_holder.id;
                        ELSE
                            v_email := NULL;
                        END IF;
                    END IF;
                END IF;

                INSERT INTO public.users AS u (clerk_id, email, name, "updatedAt", clerk_updated_at_ms)
                VALUES (p_clerk_id, v_email, p_name, v_now_utc, p_updated_at_ms)
                ON CONFLICT (clerk_id) DO UPDATE
                   SET email = EXCLUDED.email,
                       name = EXCLUDED.name,
                       "updatedAt" = EXCLUDED."updatedAt",
                       updated_at = now(),
                       clerk_updated_at_ms = EXCLUDED.clerk_updated_at_ms
                 WHERE u.clerk_updated_at_ms IS NULL OR u.clerk_updated_at_ms < EXCLUDED.clerk_updated_at_ms;
                v_outcome := CASE WHEN FOUND THEN 'applied' ELSE 'stale' END;
                EXIT;
            EXCEPTION WHEN unique_violation THEN
                -- A concurrent delivery claimed the same email or created the same user between our
                -- read and our write. Its row is committed now: decide again against it.
                IF v_attempt >= 3 THEN
                    RAISE EXCEPTION 'apply_user_event: concurrent updates kept conflicting'
                        USING ERRCODE = '40001';
                END IF;
            END;
        END LOOP;
    END IF;

    IF p_svix_id IS NOT NULL THEN
        UPDATE clerk_webhook.deliveries SET outcome = v_outcome WHERE svix_id = p_svix_id;
    END IF;
    RETURN v_outcome;
END
$fn$;

REVOKE ALL ON FUNCTION clerk_webhook.apply_user_event(text, text, text, text, bigint, text, text) FROM PUBLIC;
