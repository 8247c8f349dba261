-- Makes apply_user_event cheaper per delivery, with the same rules and outcomes (bench/RESULTS.md
-- has the figures):
--   * the ledger row is written once, with its outcome, after the change, instead of inserted as
--     'pending' first and updated at the end. A svix id already in the ledger is now detected by
--     that insert; the attempt (the user change included) is then rolled back to the block's
--     savepoint and answered 'duplicate'. A concurrent delivery of the same id still waits for the
--     first to commit (on the ledger's primary key) and then counts as the duplicate;
--   * lock_timeout is a SET clause of the function instead of a set_config() call per delivery;
--   * every delivery evaluates one argument check instead of three.
-- Everything else is unchanged from 20261125000500_apply_user_event_delete_race.sql (a migration
-- once applied is never edited, so this is a full copy of the function).

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
-- Bounded waits: a delivery must answer well inside Svix's 15 s timeout. Restored on return.
SET lock_timeout = '5s'
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
    IF p_action IS NULL OR p_action NOT IN ('upsert', 'delete', 'ignore') OR p_clerk_id IS NULL
       OR p_clerk_id = '' OR (p_action = 'upsert' AND p_updated_at_ms IS NULL) THEN
        IF p_action IS NULL OR p_action NOT IN ('upsert', 'delete', 'ignore') THEN
            RAISE EXCEPTION 'apply_user_event: unknown action' USING ERRCODE = '22023';
        ELSIF p_clerk_id IS NULL OR p_clerk_id = '' THEN
            RAISE EXCEPTION 'apply_user_event: missing Clerk id' USING ERRCODE = '22023';
        END IF;
        RAISE EXCEPTION 'apply_user_event: upsert without updated_at' USING ERRCODE = '22023';
    END IF;

    IF p_action = 'ignore' THEN
        -- Nothing to undo: the ledger insert alone tells a first delivery from a repeated one.
        IF p_svix_id IS NOT NULL THEN
            INSERT INTO clerk_webhook.deliveries
                (svix_id, event_type, action, clerk_id, event_updated_at_ms, email, name, outcome)
            VALUES (p_svix_id, coalesce(p_event_type, ''), p_action, p_clerk_id, p_updated_at_ms, p_email, p_name, 'ignored')
            ON CONFLICT (svix_id) DO NOTHING;
            IF NOT FOUND THEN
                RETURN 'duplicate';
            END IF;
        END IF;
        RETURN 'ignored';
    END IF;

    LOOP
        v_attempt := v_attempt + 1;
        BEGIN
            IF p_action = 'delete' THEN
                -- One upsert: a tombstone when the delete overtook the create, otherwise the soft
                -- delete. ON CONFLICT waits for a concurrent create of the same user, then deletes it.
                INSERT INTO public.users AS u (clerk_id, "updatedAt", deleted_at)
                VALUES (p_clerk_id, v_now_utc, now())
                ON CONFLICT (clerk_id) DO UPDATE
                   SET deleted_at = now(), updated_at = now(), "updatedAt" = v_now_utc
                 WHERE u.deleted_at IS NULL;
                v_outcome := CASE WHEN FOUND THEN 'applied' ELSE 'stale' END;
            ELSE
                SELECT * INTO v_own FROM public.users WHERE clerk_id = p_clerk_id FOR UPDATE;
                IF FOUND AND v_own.clerk_updated_at_ms >= p_updated_at_ms THEN
                    v_outcome := 'stale';
                ELSE
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
                END IF;
            END IF;

            IF p_svix_id IS NOT NULL THEN
                -- A concurrent delivery of the same id waits here for the first to commit, then sees it.
                INSERT INTO clerk_webhook.deliveries
                    (svix_id, event_type, action, clerk_id, event_updated_at_ms, email, name, outcome)
                VALUES (p_svix_id, coalesce(p_event_type, ''), p_action, p_clerk_id, p_updated_at_ms, p_email, p_name, v_outcome)
                ON CONFLICT (svix_id) DO NOTHING;
                IF NOT FOUND THEN
                    -- Applied before: undo this attempt's change too (the handler below returns).
                    RAISE EXCEPTION USING ERRCODE = 'CWDUP';
                END IF;
            END IF;
            RETURN v_outcome;
        EXCEPTION
            WHEN SQLSTATE 'CWDUP' THEN
                RETURN 'duplicate';
            WHEN unique_violation THEN
                -- A concurrent delivery claimed the same email or created the same user between our
                -- read and our write. Its row is committed now: decide again against it.
                IF v_attempt >= 3 THEN
                    RAISE EXCEPTION 'apply_user_event: concurrent updates kept conflicting'
                        USING ERRCODE = '40001';
                END IF;
        END;
    END LOOP;
END
$fn$;

REVOKE ALL ON FUNCTION clerk_webhook.apply_user_event(text, text, text, text, bigint, text, text) FROM PUBLIC;
