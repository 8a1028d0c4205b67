-- Vigil's internal machinery lives in schemas the Data API does not expose:
--   vigil_private    settings, helper and maintenance functions
--   vigil_partitions the daily partitions of the high-volume tables (reached only through their parents)
create schema if not exists vigil_private;
create schema if not exists vigil_partitions;

revoke all on schema vigil_private from public;
revoke all on schema vigil_partitions from public;
-- authenticated needs usage so admins can read settings through RLS; service_role for the API.
grant usage on schema vigil_private to authenticated, service_role;

-- Functions are executable by PUBLIC unless revoked; nothing in here is meant for callers at large.
alter default privileges for role postgres in schema vigil_private revoke execute on functions from public;

create table if not exists vigil_private.settings (
  key text primary key check (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  value jsonb not null,
  description text not null default '',
  updated_at timestamptz not null default now(),
  constraint settings_retention_days_range check (
    key <> 'retention_days'
    or (jsonb_typeof(value) = 'number' and (value #>> '{}')::numeric between 1 and 3650
        and (value #>> '{}')::numeric = trunc((value #>> '{}')::numeric))
  )
);

comment on table vigil_private.settings is 'Vigil settings: one row per key, value as JSON.';

insert into vigil_private.settings (key, value, description) values
  ('retention_days', '30', 'Days of raw health checks, processing events and resolved alerts kept.'),
  ('partition_days_ahead', '7', 'Daily partitions created ahead of today.')
on conflict (key) do nothing;

alter table vigil_private.settings enable row level security;
revoke all on table vigil_private.settings from public, anon, authenticated, service_role;
grant select on table vigil_private.settings to authenticated;
grant select, insert, update, delete on table vigil_private.settings to service_role;

drop policy if exists "admins read settings" on vigil_private.settings;
create policy "admins read settings" on vigil_private.settings
  for select to authenticated
  using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');

create or replace function vigil_private.setting_int(setting_key text, fallback integer)
returns integer
language sql stable
set search_path = ''
as $$
  select coalesce(
    (select (s.value #>> '{}')::integer from vigil_private.settings s where s.key = setting_key),
    fallback
  )
$$;
revoke all on function vigil_private.setting_int(text, integer) from public;
