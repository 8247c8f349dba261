-- "createdAt" and "updatedAt" are timestamp without time zone, which Prisma fills in UTC.
-- apply_user_event writes "updatedAt" in UTC itself, but a row it inserts takes "createdAt" from
-- the column's default, CURRENT_TIMESTAMP, which becomes a timestamp in the session's TimeZone:
-- on a server whose timezone is not UTC (Supabase's is), the two differed by its offset.
-- Running the function in UTC makes that default UTC too; nothing else it does depends on the
-- session's TimeZone. Anyone replacing apply_user_event later must keep this SET clause as well as
-- SECURITY DEFINER (20261125000700): CREATE OR REPLACE FUNCTION resets both.
ALTER FUNCTION clerk_webhook.apply_user_event(text, text, text, text, bigint, text, text) SET TimeZone = 'UTC';
