-- Platform bootstrap, part 1: the roles every Supabase database has before its first migration.
-- Runs as the bootstrap superuser (hosted: supabase_admin). Never part of supabase/migrations.
-- Idempotent: safe to run on every `stack up`.
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  -- As on hosted Supabase, `postgres` (the role that applies migrations and that edge functions
  -- connect as) is NOT a superuser: it may create roles and databases and bypasses RLS, nothing more.
  if not exists (select from pg_roles where rolname = 'postgres') then
    create role postgres login createrole createdb bypassrls;
  end if;
end
$$;

alter role postgres with login createrole createdb bypassrls nosuperuser password 'postgres';
alter role authenticator with login noinherit password 'postgres';
alter role service_role with bypassrls;
grant anon, authenticated, service_role to authenticator;
-- postgres can act as the API roles (hosted grants these so migrations and tests can `set role`).
grant anon, authenticated, service_role to postgres;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
-- What PostgREST exposes on a default project; `supabase db advisors` reads this to decide which
-- schemas are reachable through the API.
alter role authenticator set pgrst.db_schemas = 'public, graphql_public';

grant create, connect, temporary on database postgres to postgres;
grant connect on database postgres to anon, authenticated, service_role, authenticator;

-- public schema as on hosted: the API roles may use it; postgres owns what it creates there.
grant usage, create on schema public to postgres;
grant usage on schema public to anon, authenticated, service_role;
-- Hosted Supabase grants every new object in public to the API roles by default. Reproducing it
-- means a migration that forgets to revoke is caught here, not in production.
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;

-- Hosted roles find extension functions without qualification.
alter role postgres set search_path = "$user", public, extensions;
alter role service_role set search_path = "$user", public, extensions;
alter role authenticated set search_path = "$user", public, extensions;
alter role anon set search_path = "$user", public, extensions;
