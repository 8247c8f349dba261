-- `clerk-sync resync USER_ID`: force a user to what Clerk's Backend API returns now, whatever the
-- table holds (manual repair). One statement, atomic: the row's tombstone and ordering stamp are
-- cleared, then the snapshot goes through apply_user_event, so the email rule still holds.
-- Reconcile and ensure do not use this: they call apply_user_event and obey every rule.
CREATE OR REPLACE FUNCTION clerk_webhook.resync_user(
    p_clerk_id text,
    p_updated_at_ms bigint,
    p_email text,
    p_name text
) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    IF p_clerk_id IS NULL OR p_clerk_id = '' OR p_updated_at_ms IS NULL THEN
        RAISE EXCEPTION 'resync_user: missing Clerk id or updated_at' USING ERRCODE = '22023';
    END IF;
    UPDATE public.users SET deleted_at = NULL, clerk_updated_at_ms = NULL WHERE clerk_id = p_clerk_id;
    RETURN clerk_webhook.apply_user_event(NULL, 'resync', 'upsert', p_clerk_id, p_updated_at_ms, p_email, p_name);
END
$fn$;

REVOKE ALL ON FUNCTION clerk_webhook.resync_user(text, bigint, text, text) FROM PUBLIC;
