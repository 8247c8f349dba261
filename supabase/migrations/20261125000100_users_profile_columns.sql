-- Application columns and the soft-delete marker. Additive and idempotent.

ALTER TABLE public.users
    ADD COLUMN IF NOT EXISTS preferences jsonb
        DEFAULT '{"displayUnit":"A1C","reminderEnabled":false,"reminderFrequency":"DAILY","theme":"system"}'::jsonb,
    ADD COLUMN IF NOT EXISTS medical_profile jsonb DEFAULT '{"preferredUnit":"MGDL"}'::jsonb,
    ADD COLUMN IF NOT EXISTS deleted_at timestamptz;

COMMENT ON COLUMN public.users.deleted_at IS
    'Set when Clerk deleted the user (user.deleted). Terminal: no later event clears it.';

-- Lookups by Clerk id. The seed's User_clerkId_key already provides an index; add one only when
-- no index leads with clerk_id (e.g. a seed that lost the constraint).
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = 'public.users'::regclass AND a.attname = 'clerk_id'
    ) THEN
        CREATE INDEX users_clerk_id_idx ON public.users (clerk_id);
    END IF;
END
$$;
