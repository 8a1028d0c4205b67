-- One row per probe result. Partitioned by day on checked_at (when the probe ran) so retention
-- drops whole partitions; the partitions live in vigil_partitions (see partition maintenance).
create table if not exists public.service_health_checks (
  id uuid not null default extensions.gen_random_uuid(),
  service_name text not null check (char_length(service_name) between 1 and 200),
  status text not null check (status in ('healthy', 'degraded', 'down')),
  latency_ms integer check (latency_ms >= 0),
  checked_at timestamptz not null default now(),
  probe_details jsonb not null default '{}'::jsonb check (jsonb_typeof(probe_details) = 'object'),
  created_at timestamptz not null default now(),
  primary key (id, checked_at)
) partition by range (checked_at);

comment on table public.service_health_checks is 'Health probe results (one row per probe run per service).';
comment on column public.service_health_checks.checked_at is 'When the probe ran; created_at is when the row was written.';

create index if not exists service_health_checks_service_checked_idx
  on public.service_health_checks (service_name, checked_at desc);
create index if not exists service_health_checks_checked_at_idx
  on public.service_health_checks (checked_at);
create index if not exists service_health_checks_created_at_idx
  on public.service_health_checks (created_at);

-- Catches rows outside every daily partition so an insert never fails for want of one;
-- partition maintenance moves them into their day when it creates it.
create table if not exists vigil_partitions.service_health_checks_default
  partition of public.service_health_checks default;

alter table public.service_health_checks enable row level security;
alter table vigil_partitions.service_health_checks_default enable row level security;
revoke all on table public.service_health_checks from public, anon, authenticated, service_role;
grant select on table public.service_health_checks to authenticated;
grant select, insert, update, delete on table public.service_health_checks to service_role;

drop policy if exists "admins read health checks" on public.service_health_checks;
create policy "admins read health checks" on public.service_health_checks
  for select to authenticated
  using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');
