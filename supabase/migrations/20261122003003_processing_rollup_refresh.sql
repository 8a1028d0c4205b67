-- Keeping the hourly processing-event rollups current (pg_cron, every minute) and purging old ones.

-- Marks every hour overlapping [from_ts, to_ts) stale, for writers that bypass the ingest function
-- (backfills, bulk loads, manual fixes): the next refresh rebuilds those hours from raw rows.
create or replace function vigil_private.mark_processing_rollups_dirty(from_ts timestamptz, to_ts timestamptz)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  n bigint;
begin
  if from_ts is null or to_ts is null or to_ts <= from_ts then
    return 0;
  end if;
  insert into vigil_private.processing_rollup_dirty (hour)
  select h from pg_catalog.generate_series(pg_catalog.date_trunc('hour', from_ts, 'UTC'), to_ts - interval '1 microsecond',
                                           interval '1 hour') as h;
  get diagnostics n = row_count;
  return n;
end
$$;

-- Rebuilds the rollups of (at most max_hours of) the dirty hours from raw rows.
--
-- Correct under concurrent ingest without locks on the hot path: the dirty marks are deleted first
-- (a statement whose snapshot sees only committed marks, and each committed mark's raw rows were
-- committed with it); the rebuild statements that follow take newer snapshots, so they see at
-- least those rows. A mark committed after the delete is kept and rebuilt again by the next run.
-- A rebuild is a full recount of the hour, so running it twice never counts anything twice.
-- Hours older than the raw-row retention window are not rebuilt (their raw rows may be gone, and
-- rollups must outlive them); their marks are just dropped.
create or replace function vigil_private.refresh_processing_rollups(max_hours integer default 500)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  hours timestamptz[];
  raw_floor timestamptz := (((now() at time zone 'UTC')::date - vigil_private.setting_int('retention_days', 30))::timestamp
                            at time zone 'UTC');
  n_counts bigint := 0;
  n_latency bigint := 0;
  n_errors bigint := 0;
begin
  -- One refresh at a time (pg_cron never overlaps a job with itself, but a manual call could).
  perform pg_catalog.pg_advisory_xact_lock(7461001);

  with picked as (
    select distinct d.hour from vigil_private.processing_rollup_dirty d order by d.hour limit max_hours
  ), taken as (
    delete from vigil_private.processing_rollup_dirty d using picked p where d.hour = p.hour returning d.hour
  )
  select pg_catalog.array_agg(distinct t.hour) filter (where t.hour >= raw_floor) into hours from taken t;

  if hours is null or pg_catalog.cardinality(hours) = 0 then
    return jsonb_build_object('hours', 0);
  end if;

  delete from vigil_private.processing_rollup_hourly r where r.hour = any (hours);
  insert into vigil_private.processing_rollup_hourly
    (hour, event_type, stage, events, with_duration, duration_sum, duration_min, duration_max)
  select h.hour, e.event_type, coalesce(e.stage, ''), count(*), count(e.duration_ms), coalesce(sum(e.duration_ms), 0),
         min(e.duration_ms), max(e.duration_ms)
  from pg_catalog.unnest(hours) as h(hour)
  join public.document_processing_events e on e.created_at >= h.hour and e.created_at < h.hour + interval '1 hour'
  group by 1, 2, 3;
  get diagnostics n_counts = row_count;

  delete from vigil_private.processing_latency_hourly r where r.hour = any (hours);
  insert into vigil_private.processing_latency_hourly (hour, event_type, bucket, events, sum_ms, min_ms, max_ms)
  select h.hour, e.event_type, pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint, count(*), sum(e.duration_ms),
         min(e.duration_ms), max(e.duration_ms)
  from pg_catalog.unnest(hours) as h(hour)
  join public.document_processing_events e on e.created_at >= h.hour and e.created_at < h.hour + interval '1 hour'
  where e.duration_ms is not null
  group by 1, 2, 3;
  get diagnostics n_latency = row_count;

  delete from vigil_private.processing_errors_hourly r where r.hour = any (hours);
  insert into vigil_private.processing_errors_hourly (hour, stage, error_message, events, last_seen)
  select h.hour, coalesce(e.stage, ''), left(e.error_message, 200), count(*), max(e.created_at)
  from pg_catalog.unnest(hours) as h(hour)
  join public.document_processing_events e on e.created_at >= h.hour and e.created_at < h.hour + interval '1 hour'
  where e.event_type = 'failed' and e.error_message is not null
  group by 1, 2, 3;
  get diagnostics n_errors = row_count;

  return jsonb_build_object('hours', pg_catalog.cardinality(hours), 'count_rows', n_counts,
                            'latency_rows', n_latency, 'error_rows', n_errors);
end
$$;

-- Rollups older than rollup_retention_days (never less than the raw retention) go, by row.
create or replace function vigil_private.purge_processing_rollups(today date default (now() at time zone 'UTC')::date)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  cutoff timestamptz := ((today - greatest(vigil_private.setting_int('rollup_retention_days', 400),
                                           vigil_private.setting_int('retention_days', 30)))::timestamp at time zone 'UTC');
  n bigint;
  total bigint := 0;
begin
  delete from vigil_private.processing_rollup_hourly where hour < cutoff;
  get diagnostics n = row_count;
  total := total + n;
  delete from vigil_private.processing_latency_hourly where hour < cutoff;
  get diagnostics n = row_count;
  total := total + n;
  delete from vigil_private.processing_errors_hourly where hour < cutoff;
  get diagnostics n = row_count;
  total := total + n;
  return total;
end
$$;

revoke all on function vigil_private.mark_processing_rollups_dirty(timestamptz, timestamptz) from public;
revoke all on function vigil_private.refresh_processing_rollups(integer) from public;
revoke all on function vigil_private.purge_processing_rollups(date) from public;
grant execute on function vigil_private.mark_processing_rollups_dirty(timestamptz, timestamptz) to service_role;

-- cron.schedule replaces a job of the same name, so re-running this is harmless. pg_cron never
-- runs a job while its previous run is still going.
select cron.schedule('vigil-processing-rollups', '* * * * *', $$select vigil_private.refresh_processing_rollups()$$);
select cron.schedule('vigil-processing-rollups-purge', '41 3 * * *', $$select vigil_private.purge_processing_rollups()$$);
