-- One row per stage of each processed document, recorded by the application through ingest.
-- Partitioned by day on created_at; ids are client-supplied (UUIDv7 from the SDK) so retries are
-- idempotent, hence the primary key (id, created_at): Postgres requires the partition key in it.
create table if not exists public.document_processing_events (
  id uuid not null default extensions.gen_random_uuid(),
  document_id uuid not null,
  -- No foreign key to auth.users: events are analytics and must outlive (and never block on) users.
  user_id uuid not null,
  event_type text not null check (event_type in ('upload_started', 'processing_started', 'completed', 'failed')),
  duration_ms integer check (duration_ms >= 0),
  error_message text check (char_length(error_message) <= 2000),
  stage text check (char_length(stage) between 1 and 100),
  created_at timestamptz not null default now(),
  primary key (id, created_at)
) partition by range (created_at);

comment on table public.document_processing_events is 'Document processing events (one row per stage per document).';

create index if not exists document_processing_events_created_at_idx
  on public.document_processing_events (created_at);
create index if not exists document_processing_events_document_idx
  on public.document_processing_events (document_id, created_at);
-- Backs the "users read their own events" policy.
create index if not exists document_processing_events_user_idx
  on public.document_processing_events (user_id, created_at);

create table if not exists vigil_partitions.document_processing_events_default
  partition of public.document_processing_events default;

alter table public.document_processing_events enable row level security;
alter table vigil_partitions.document_processing_events_default enable row level security;
revoke all on table public.document_processing_events from public, anon, authenticated, service_role;
grant select on table public.document_processing_events to authenticated;
grant select, insert, update, delete on table public.document_processing_events to service_role;

drop policy if exists "admins read all events, users their own" on public.document_processing_events;
create policy "admins read all events, users their own" on public.document_processing_events
  for select to authenticated
  using (
    ((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin'
    or user_id = (select auth.uid())
  );
