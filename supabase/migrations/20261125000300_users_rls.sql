-- Row-level security for Clerk-authenticated Supabase clients.
--
-- Clerk user ids (user_2abc...) are not UUIDs, so policies compare auth.jwt()->>'sub' with
-- clerk_id; auth.uid() would fail to cast them.
--
-- Supabase provides the anon/authenticated roles and auth.jwt(). On plain PostgreSQL they are
-- created here, only when missing, with Supabase's definition (the JWT claims arrive in the
-- request.jwt.claims setting), so the same policies work in both places.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS auth;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'auth' AND p.proname = 'jwt'
    ) THEN
        CREATE FUNCTION auth.jwt() RETURNS jsonb
        LANGUAGE sql STABLE
        AS $jwt$
            SELECT coalesce(
                nullif(current_setting('request.jwt.claim', true), ''),
                nullif(current_setting('request.jwt.claims', true), '')
            )::jsonb
        $jwt$;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA auth TO anon, authenticated;

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS users_select_own ON public.users;
CREATE POLICY users_select_own ON public.users
    FOR SELECT TO authenticated
    USING ((SELECT auth.jwt() ->> 'sub') = clerk_id);

DROP POLICY IF EXISTS users_update_own ON public.users;
CREATE POLICY users_update_own ON public.users
    FOR UPDATE TO authenticated
    USING ((SELECT auth.jwt() ->> 'sub') = clerk_id AND deleted_at IS NULL)
    WITH CHECK ((SELECT auth.jwt() ->> 'sub') = clerk_id AND deleted_at IS NULL);

-- Clerk owns identity (clerk_id, email, deleted_at) and the app owns role: a signed-in user may
-- read their row and change only their own profile columns. anon gets nothing.
REVOKE ALL ON public.users FROM anon, authenticated;
GRANT SELECT ON public.users TO authenticated;
GRANT UPDATE (name, preferences, medical_profile, "updatedAt", updated_at) ON public.users TO authenticated;
