-- Hourly rollups of public.document_processing_events, for dashboards over long windows.
--
-- How they stay current: every ingest statement also appends the hours it inserted rows into to
-- vigil_private.processing_rollup_dirty (only rows actually inserted, so a duplicate that was not
-- stored marks nothing). A pg_cron job re-aggregates each dirty hour from the raw rows (see
-- refresh_processing_rollups), so late events and retries can never be double-counted. The
-- analytics functions read dirty hours from raw rows, so their answers are exact even between runs.
--
-- Rollups are kept longer than raw rows: `rollup_retention_days` (default 400), purged by row
-- (the tables are small: tens of rows per hour).

insert into vigil_private.settings (key, value, description) values
  ('rollup_retention_days', '400', 'Days of hourly processing-event rollups kept (raw events: retention_days).')
on conflict (key) do nothing;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conname = 'settings_rollup_retention_days_range'
                   and conrelid = 'vigil_private.settings'::regclass) then
    alter table vigil_private.settings add constraint settings_rollup_retention_days_range check (
      key <> 'rollup_retention_days'
      or (jsonb_typeof(value) = 'number' and (value #>> '{}')::numeric between 1 and 3650
          and (value #>> '{}')::numeric = trunc((value #>> '{}')::numeric))
    );
  end if;
end
$$;

-- Counts per hour, event_type and stage ('' stands for "no stage": ingest never stores an empty stage).
create table if not exists vigil_private.processing_rollup_hourly (
  hour timestamptz not null check (date_trunc('hour', hour, 'UTC') = hour),
  event_type text not null check (event_type in ('upload_started', 'processing_started', 'completed', 'failed')),
  stage text not null check (char_length(stage) <= 100),
  events bigint not null check (events > 0),
  with_duration bigint not null check (with_duration between 0 and events),
  duration_sum bigint not null default 0 check (duration_sum >= 0),
  duration_min integer check (duration_min >= 0),
  duration_max integer check (duration_max >= duration_min),
  primary key (hour, event_type, stage)
);
comment on table vigil_private.processing_rollup_hourly is
  'Hourly processing-event counts per event_type and stage ('''' = no stage); rebuilt per dirty hour from raw rows.';

-- The fixed latency histogram per hour and event_type, sparse: one row per non-empty bucket
-- (bucket = vigil_private.latency_bucket(duration_ms)), with the sum, min and max of the durations
-- in it (so count/avg/min/max and tighter percentile estimates come from this table alone).
create table if not exists vigil_private.processing_latency_hourly (
  hour timestamptz not null check (date_trunc('hour', hour, 'UTC') = hour),
  event_type text not null check (event_type in ('upload_started', 'processing_started', 'completed', 'failed')),
  bucket smallint not null check (bucket >= 1),
  events bigint not null check (events > 0),
  sum_ms bigint not null check (sum_ms >= 0),
  min_ms integer not null check (min_ms >= 0),
  max_ms integer not null check (max_ms >= min_ms),
  primary key (hour, event_type, bucket)
);
comment on table vigil_private.processing_latency_hourly is
  'Hourly latency histogram per event_type (buckets: vigil_private.latency_bucket_bounds()).';

-- Failure messages per hour and stage. Messages are grouped on their first 200 characters (the
-- raw-row analytics group the same way, so both answer identically).
create table if not exists vigil_private.processing_errors_hourly (
  hour timestamptz not null check (date_trunc('hour', hour, 'UTC') = hour),
  stage text not null check (char_length(stage) <= 100),
  error_message text not null check (char_length(error_message) <= 200),
  events bigint not null check (events > 0),
  last_seen timestamptz not null,
  primary key (hour, stage, error_message)
);
comment on table vigil_private.processing_errors_hourly is
  'Hourly counts of failed events per stage and error message (first 200 characters).';

-- Hours whose rollups are stale. Append-only for writers (no unique key, so concurrent ingests
-- never wait on each other); the refresh job deletes what it has processed.
create table if not exists vigil_private.processing_rollup_dirty (
  id bigint generated always as identity primary key,
  hour timestamptz not null,
  marked_at timestamptz not null default now()
);
create index if not exists processing_rollup_dirty_hour_idx on vigil_private.processing_rollup_dirty (hour);
comment on table vigil_private.processing_rollup_dirty is
  'Hours whose processing-event rollups must be rebuilt (appended by ingest, consumed by the refresh job).';

-- Admins read rollups (the analytics functions run as the caller); only the service writes.
do $$
declare
  t text;
begin
  foreach t in array array['processing_rollup_hourly', 'processing_latency_hourly', 'processing_errors_hourly',
                           'processing_rollup_dirty'] loop
    execute format('alter table vigil_private.%I enable row level security', t);
    execute format('revoke all on table vigil_private.%I from public, anon, authenticated, service_role', t);
    execute format('grant select on table vigil_private.%I to authenticated', t);
    execute format('grant select, insert, update, delete on table vigil_private.%I to service_role', t);
    execute format('drop policy if exists "admins read" on vigil_private.%I', t);
    execute format($p$create policy "admins read" on vigil_private.%I for select to authenticated
                      using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin')$p$, t);
  end loop;
end
$$;
