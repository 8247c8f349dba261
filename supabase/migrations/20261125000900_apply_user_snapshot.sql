-- Clerk's updated_at has millisecond resolution. Two changes to one user within the same
-- millisecond send two webhooks with the same data.updated_at; whichever arrives first is applied
-- and the other is `stale`, so the row can keep the earlier of the two. Only Clerk's Backend API
-- knows which is current, and reconcile and ensure, which apply its snapshot through the webhook's
-- ordering rule, left such a row alone ("already this updated_at").
--
-- apply_user_snapshot applies a snapshot from the Backend API: as an upsert event, except that a
-- live row carrying exactly the snapshot's updated_at is overwritten too. One statement, atomic:
-- the row steps its stamp back one millisecond under its row lock, then the snapshot goes through
-- apply_user_event, so the email rule still holds. A row newer than the snapshot, or a tombstone,
-- is left alone (answer 'stale'), so a webhook that got there first still wins.
CREATE OR REPLACE FUNCTION clerk_webhook.apply_user_snapshot(
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
        RAISE EXCEPTION 'apply_user_snapshot: missing Clerk id or updated_at' USING ERRCODE = '22023';
    END IF;
    UPDATE public.users SET clerk_updated_at_ms = p_updated_at_ms - 1
     WHERE clerk_id = p_clerk_id AND clerk_updated_at_ms = p_updated_at_ms AND deleted_at IS NULL;
    RETURN clerk_webhook.apply_user_event(NULL, 'reconcile', 'upsert', p_clerk_id, p_updated_at_ms, p_email, p_name);
END
$fn$;

REVOKE ALL ON FUNCTION clerk_webhook.apply_user_snapshot(text, bigint, text, text) FROM PUBLIC;
