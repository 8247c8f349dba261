-- A least-privilege role for the webhook's own database login. The webhook answers the public
-- internet, so its connection string should be able to do what a delivery needs and nothing else:
-- members of clerk_webhook_writer may call the three functions the webhook sends (apply a delivery,
-- record a failed one, warm a fresh connection up) and cannot read or change any table themselves.
-- Those functions run as their owner (SECURITY DEFINER, each with its search_path pinned), so the
-- rules in apply_user_event stay the only way in. Give the webhook a login of its own:
--
--   CREATE ROLE clerk_webhook_login LOGIN PASSWORD '...' IN ROLE clerk_webhook_writer;
--
-- clerk-sync (migrate, events, replay, prune, reconcile) keeps using an owner's connection.
-- Anyone replacing apply_user_event or record_rejection later must keep SECURITY DEFINER: CREATE OR
-- REPLACE FUNCTION resets it.

-- Roles belong to the whole cluster: another database's migration may have made it, or be making
-- it right now (then this waits for that one to commit and finds the name taken).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'clerk_webhook_writer') THEN
        CREATE ROLE clerk_webhook_writer NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

-- What a warm worker runs before its request arrives: compiles the sync function (the call changes
-- nothing: no svix id, action 'ignore') and plans lookups on the two tables it writes, so the
-- server backend's caches of them and their indexes are built. Reads only; nothing is locked.
CREATE OR REPLACE FUNCTION clerk_webhook.warm_up() RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog
AS $fn$
BEGIN
    PERFORM clerk_webhook.apply_user_event(NULL, 'warm-up', 'ignore', 'warm-up', NULL, NULL, NULL);
    PERFORM FROM public.users WHERE clerk_id = 'warm-up' OR email = 'warm-up';
    PERFORM FROM clerk_webhook.deliveries WHERE svix_id = 'warm-up';
    RETURN 'warm';
END
$fn$;

ALTER FUNCTION clerk_webhook.apply_user_event(text, text, text, text, bigint, text, text) SECURITY DEFINER;
ALTER FUNCTION clerk_webhook.record_rejection(text, text, text, integer, text, text) SECURITY DEFINER;

REVOKE ALL ON FUNCTION clerk_webhook.warm_up() FROM PUBLIC;
GRANT USAGE ON SCHEMA clerk_webhook TO clerk_webhook_writer;
GRANT EXECUTE ON FUNCTION
    clerk_webhook.apply_user_event(text, text, text, text, bigint, text, text),
    clerk_webhook.record_rejection(text, text, text, integer, text, text),
    clerk_webhook.warm_up()
TO clerk_webhook_writer;
