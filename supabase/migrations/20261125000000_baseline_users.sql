-- Baseline: exactly the seed's objects, each created only when missing, so this is a no-op on a
-- database that already has them (e.g. an existing Supabase project).

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typname = 'UserRole'
    ) THEN
        CREATE TYPE public."UserRole" AS ENUM ('user', 'admin');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS public.users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    clerk_id text NULL DEFAULT 'NULL'::text,
    email text NULL,
    name text NULL,
    role public."UserRole" NOT NULL DEFAULT 'user',
    "createdAt" timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamp NOT NULL,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    CONSTRAINT User_pkey PRIMARY KEY (id),
    CONSTRAINT User_clerkId_key UNIQUE (clerk_id),
    CONSTRAINT User_email_key UNIQUE (email)
);
