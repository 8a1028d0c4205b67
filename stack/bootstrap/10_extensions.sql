-- Platform bootstrap, part 2: the `extensions` schema and the extensions a migration may expect.
-- On hosted Supabase the superuser pre-installs these (or supautils lets postgres create them);
-- here the bootstrap superuser creates them so migrations never need superuser rights.
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;

create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
-- pgTAP for `supabase/tests` (hosted: `supabase test db` installs it the same way).
create extension if not exists pgtap with schema extensions;
-- plpgsql_check backs `supabase db lint`.
create extension if not exists plpgsql_check with schema extensions;

-- pg_cron, as hosted: installed in pg_catalog, schema `cron`, usable by postgres.
create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres;
grant all on all tables in schema cron to postgres;
grant all on all sequences in schema cron to postgres;
grant all on all functions in schema cron to postgres;
