-- For bench/run.sh's bound rows only, never a deployment: clerk_webhook.apply_user_event with the
-- same signature, answering 'applied' without reading or writing anything. A delivery then costs
-- PostgreSQL a round trip and an empty transaction, so those rows show how each handler does when
-- the database's share of a delivery is next to nothing.
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
AS $fn$
BEGIN
    RETURN 'applied';
END
$fn$;
