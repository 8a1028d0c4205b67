-- Maintenance windows (planned) and silences (ad hoc): both suppress notifications, never recording.
create table if not exists public.maintenance_windows (
  id uuid primary key default extensions.gen_random_uuid(),
  -- null = every service
  service_name text check (char_length(service_name) between 1 and 200),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  reason text not null default '' check (char_length(reason) <= 1000),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint maintenance_windows_order check (ends_at > starts_at)
);
create index if not exists maintenance_windows_active_idx on public.maintenance_windows (ends_at, starts_at);
create index if not exists maintenance_windows_created_by_idx on public.maintenance_windows (created_by);

create table if not exists public.alert_silences (
  id uuid primary key default extensions.gen_random_uuid(),
  -- null = every service; alert_type null = every type
  service_name text check (char_length(service_name) between 1 and 200),
  alert_type text check (alert_type in ('service_down', 'service_degraded', 'service_flapping')),
  -- "until resolved": the silence ends when this alert resolves (or at ends_at, whichever first)
  alert_id uuid references public.alert_events (id) on delete cascade,
  starts_at timestamptz not null default now(),
  ends_at timestamptz,
  reason text not null default '' check (char_length(reason) <= 1000),
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint alert_silences_has_end check (ends_at is not null or alert_id is not null),
  constraint alert_silences_order check (ends_at is null or ends_at > starts_at)
);
create index if not exists alert_silences_active_idx on public.alert_silences (ends_at);
create index if not exists alert_silences_alert_idx on public.alert_silences (alert_id);
create index if not exists alert_silences_created_by_idx on public.alert_silences (created_by);

do $$
declare
  t text;
begin
  foreach t in array array['maintenance_windows', 'alert_silences'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('revoke all on table public.%I from public, anon, authenticated, service_role', t);
    execute format('grant select, insert, update, delete on table public.%I to authenticated, service_role', t);
    execute format('drop policy if exists "admins read" on public.%I', t);
    execute format('create policy "admins read" on public.%I for select to authenticated using ((select vigil_private.jwt_is_admin()))', t);
    execute format('drop policy if exists "admins add" on public.%I', t);
    execute format('create policy "admins add" on public.%I for insert to authenticated with check ((select vigil_private.jwt_is_admin()))', t);
    execute format('drop policy if exists "admins change" on public.%I', t);
    execute format('create policy "admins change" on public.%I for update to authenticated using ((select vigil_private.jwt_is_admin())) with check ((select vigil_private.jwt_is_admin()))', t);
    execute format('drop policy if exists "admins remove" on public.%I', t);
    execute format('create policy "admins remove" on public.%I for delete to authenticated using ((select vigil_private.jwt_is_admin()))', t);
  end loop;
end
$$;

-- Why a notification about this alert must not go out at `at`: 'maintenance', 'silenced' or null.
create or replace function vigil_private.notification_suppression(
  p_service_name text, p_alert_type text, p_alert_id uuid, p_at timestamptz
) returns text
language sql stable
set search_path = ''
as $$
  select case
    when exists (
      select 1 from public.maintenance_windows m
      where (m.service_name is null or m.service_name = p_service_name)
        and m.starts_at <= p_at and m.ends_at > p_at
    ) then 'maintenance'
    when exists (
      select 1 from public.alert_silences s
      left join public.alert_events a on a.id = s.alert_id
      where (s.service_name is null or s.service_name = p_service_name)
        and (s.alert_id is not null or s.alert_type is null or s.alert_type = p_alert_type)
        and s.starts_at <= p_at
        and (s.ends_at is null or s.ends_at > p_at)
        -- bound to an alert: silences that alert while it has not resolved
        and (s.alert_id is null or (s.alert_id = p_alert_id and (a.resolved_at is null or a.resolved_at >= p_at)))
    ) then 'silenced'
  end
$$;
revoke all on function vigil_private.notification_suppression(text, text, uuid, timestamptz) from public;
