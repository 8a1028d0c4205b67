-- Rollup answers equal raw-row answers on the same data: counts exactly, duration percentiles
-- within the same fixed histogram bucket as the exact value (and avg/min/max exactly).
begin;
select plan(17);

-- 3 days of events 25 days ago (inside raw retention), through the ingest statement.
create temporary table t_events on commit drop as
select gen_random_uuid() as id, gen_random_uuid() as document_id, gen_random_uuid() as user_id,
       (array['upload_started','processing_started','completed','failed'])[1 + (i % 4)] as event_type,
       case when i % 4 >= 2 then ((i * 7919) % 50000) + (i % 3) end as duration_ms,
       case when i % 4 = 3 then 'error ' || (i % 5) end as error_message,
       case when i % 4 = 3 then (array['ocr','llm','storage'])[1 + i % 3] when i % 4 = 2 then 'summary' end as stage,
       date_trunc('hour', now() - interval '25 days') + i * interval '47 seconds' as created_at
from generate_series(1, 5500) i;

select is(vigil_private.ingest_processing_events(
  array_agg(id), array_agg(document_id), array_agg(user_id), array_agg(event_type), array_agg(duration_ms),
  array_agg(error_message), array_agg(stage), array_agg(created_at)), 5500, 'ingest stored every event')
from t_events;

select ok((vigil_private.refresh_processing_rollups(10000) ->> 'hours')::int >= 72, 'refresh rebuilt the dirty hours');
select is((select count(*)::int from vigil_private.processing_rollup_dirty
           where hour >= now() - interval '26 days' and hour < now() - interval '21 days'), 0, 'no dirty hour left in the window');

create temporary table w on commit drop as
select date_trunc('hour', now() - interval '25 days') as f, date_trunc('hour', now() - interval '22 days') as t,
       now() - interval '25 days' + interval '17 minutes' as f2, now() - interval '22 days' - interval '9 minutes' as t2;

select results_eq(
  $$select * from public.processing_volume((select f from w), (select t from w), '1 hour', 'rollup')$$,
  $$select * from public.processing_volume((select f from w), (select t from w), '1 hour', 'raw')$$,
  'volume by event_type, hourly: rollups = raw');
select results_eq(
  $$select * from public.processing_volume((select f2 from w), (select t2 from w), '1 day', 'rollup')$$,
  $$select * from public.processing_volume((select f2 from w), (select t2 from w), '1 day', 'raw')$$,
  'volume, daily, window not aligned to hours (edges from raw rows): rollups = raw');
select results_eq(
  $$select * from public.processing_success_rate((select f2 from w), (select t2 from w), '6 hours', 'rollup')$$,
  $$select * from public.processing_success_rate((select f2 from w), (select t2 from w), '6 hours', 'raw')$$,
  'success rate: rollups = raw');
select results_eq(
  $$select * from public.processing_failures_by_stage((select f2 from w), (select t2 from w), '12 hours', 'rollup')$$,
  $$select * from public.processing_failures_by_stage((select f2 from w), (select t2 from w), '12 hours', 'raw')$$,
  'failures by stage: rollups = raw');
select results_eq(
  $$select * from public.processing_top_errors((select f2 from w), (select t2 from w), 10, 'rollup')$$,
  $$select * from public.processing_top_errors((select f2 from w), (select t2 from w), 10, 'raw')$$,
  'top error messages: rollups = raw');
select results_eq(
  $$select * from public.processing_volume((select f2 from w), (select t2 from w), null, 'rollup')$$,
  $$select * from public.processing_volume((select f2 from w), (select t2 from w), null, 'raw')$$,
  'volume over the whole window as one bucket: rollups = raw');

select results_eq(
  $$select * from public.processing_volume((select f2 from w), (select f2 from w) + interval '40 minutes', null, 'rollup')$$,
  $$select * from public.processing_volume((select f2 from w), (select f2 from w) + interval '40 minutes', null, 'raw')$$,
  'a 40-minute window forced through the rollup path (no whole hour in it): = raw');

create temporary table p_roll on commit drop as
  select * from public.processing_duration_percentiles((select f2 from w), (select t2 from w), '1 day', 'completed', 'rollup');
create temporary table p_raw on commit drop as
  select * from public.processing_duration_percentiles((select f2 from w), (select t2 from w), '1 day', 'completed', 'raw');

select ok((select count(*) from p_raw) >= 3, 'there are duration buckets to compare');
select results_eq(
  $$select bucket_start, events, avg_ms, min_ms, max_ms from p_roll order by 1$$,
  $$select bucket_start, events, avg_ms, min_ms, max_ms from p_raw order by 1$$,
  'duration count, avg, min, max: rollups = raw');
select is((select count(*)::int from p_roll r join p_raw x using (bucket_start)
           where vigil_private.latency_bucket(floor(r.p50_ms)::int) = vigil_private.latency_bucket(x.p50_ms::int)
             and vigil_private.latency_bucket(floor(r.p95_ms)::int) = vigil_private.latency_bucket(x.p95_ms::int)
             and vigil_private.latency_bucket(floor(r.p99_ms)::int) = vigil_private.latency_bucket(x.p99_ms::int)),
          (select count(*)::int from p_raw),
          'p50/p95/p99 from rollups fall in the histogram bucket of the exact value');
select ok((select bool_and(not exact) from p_roll) and (select bool_and(exact) from p_raw), 'percentiles say whether they are exact');

select is(public.processing_analytics((select f from w), (select t from w), '1 day') ->> 'source', 'rollup',
          'auto mode reads rollups for a 3-day window');
select is(public.processing_analytics((select f from w), (select f from w) + interval '2 hours', '1 hour') ->> 'source', 'raw',
          'auto mode reads raw rows for a 2-hour window');
select throws_ok($$select * from public.processing_volume(now() - interval '1 day', now(), '15 minutes', 'rollup')$$,
                 '22023', null, 'rollups refuse buckets that are not whole hours');

select * from finish();
rollback;
