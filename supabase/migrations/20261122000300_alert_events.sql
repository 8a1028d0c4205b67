-- Alerts and their lifecycle: active -> acknowledged -> resolved (or active -> resolved).
create table if not exists public.alert_events (
  id uuid primary key default extensions.gen_random_uuid(),
  service_name text not null check (char_length(service_name) between 1 and 200),
  alert_type text not null check (alert_type in ('service_down', 'service_degraded', 'recovery')),
  status text not null default 'active' check (status in ('active', 'acknowledged', 'resolved')),
  details jsonb not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
  created_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  acknowledged_by uuid references auth.users (id) on delete set null,
  resolved_at timestamptz,
  constraint alert_events_acknowledged_has_time check (status <> 'acknowledged' or acknowledged_at is not null),
  constraint alert_events_ack_by_needs_time check (acknowledged_by is null or acknowledged_at is not null),
  constraint alert_events_resolved_has_time check ((status = 'resolved') = (resolved_at is not null)),
  constraint alert_events_ack_after_creation check (acknowledged_at is null or acknowledged_at >= created_at),
  constraint alert_events_resolve_after_creation check (resolved_at is null or resolved_at >= created_at)
);

comment on table public.alert_events is 'Alerts raised by the health state machine; at most one open per service and type.';

-- The database, not application code, guarantees one open alert per service and type.
create unique index if not exists alert_events_one_open_idx
  on public.alert_events (service_name, alert_type)
  where status in ('active', 'acknowledged');
create index if not exists alert_events_created_at_idx on public.alert_events (created_at);
create index if not exists alert_events_service_created_idx on public.alert_events (service_name, created_at desc);
create index if not exists alert_events_acknowledged_by_idx on public.alert_events (acknowledged_by);
create index if not exists alert_events_resolved_at_idx on public.alert_events (resolved_at) where status = 'resolved';

-- Lifecycle rules: resolved is final, nothing goes back to active, and the timestamps follow the status.
create or replace function vigil_private.alert_events_lifecycle()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status = 'resolved' and new.status <> 'resolved' then
    raise exception 'alert % is resolved and cannot become %', old.id, new.status
      using errcode = 'check_violation';
  end if;
  if old.status <> 'active' and new.status = 'active' then
    raise exception 'alert % cannot go back from % to active', old.id, old.status
      using errcode = 'check_violation';
  end if;
  if new.status = 'acknowledged' and old.status = 'active' then
    new.acknowledged_at := coalesce(new.acknowledged_at, now());
  end if;
  if new.status = 'resolved' and old.status <> 'resolved' then
    new.resolved_at := coalesce(new.resolved_at, now());
  end if;
  return new;
end
$$;
revoke all on function vigil_private.alert_events_lifecycle() from public;

drop trigger if exists alert_events_lifecycle on public.alert_events;
create trigger alert_events_lifecycle
  before update on public.alert_events
  for each row execute function vigil_private.alert_events_lifecycle();

alter table public.alert_events enable row level security;
revoke all on table public.alert_events from public, anon, authenticated, service_role;
grant select on table public.alert_events to authenticated;
grant select, insert, update, delete on table public.alert_events to service_role;

drop policy if exists "admins read alerts" on public.alert_events;
create policy "admins read alerts" on public.alert_events
  for select to authenticated
  using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');
