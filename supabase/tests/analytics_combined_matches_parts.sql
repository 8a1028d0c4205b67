-- processing_analytics reads every raw row it needs once (one pass shared by counts, histogram and
-- error messages); its parts must equal what the individual functions answer for the same window,
-- from rollups, for windows with partial edge hours, dirty hours, and a trailing partial hour that
-- is answered from its (clean) rollup. That shortcut must also agree with raw rows.
begin;
select plan(21);

create temporary table t_events on commit drop as
select gen_random_uuid() as id, gen_random_uuid() as document_id, gen_random_uuid() as user_id,
       (array['upload_started','processing_started','completed','failed'])[1 + (i % 4)] as event_type,
       case when i % 4 >= 2 then ((i * 7919) % 40000) + (i % 7) end as duration_ms,
       case when i % 4 = 3 then 'error ' || (i % 4) end as error_message,
       case when i % 4 = 3 then (array['ocr','llm', null])[1 + i % 3] when i % 4 = 2 then 'summary' end as stage,
       date_trunc('hour', now() - interval '20 days') + i * interval '53 seconds' as created_at
from generate_series(1, 3000) i;

select is(vigil_private.ingest_processing_events(
  array_agg(id), array_agg(document_id), array_agg(user_id), array_agg(event_type), array_agg(duration_ms),
  array_agg(error_message), array_agg(stage), array_agg(created_at)), 3000, 'ingest stored every event')
from t_events;
select ok((vigil_private.refresh_processing_rollups(10000) ->> 'hours')::int >= 40, 'rollups rebuilt');

-- w1: both edges partial, rows after p_to in the last hour. w2: ends a minute after the last row,
-- mid-hour (the trailing hour comes from its rollup).
create temporary table w on commit drop as
select (select min(created_at) from t_events) + interval '17 minutes 3 seconds' as f1,
       (select max(created_at) from t_events) - interval '95 minutes' as t1,
       (select max(created_at) from t_events) + interval '1 minute' as t2;

create function pg_temp.sorted(j jsonb) returns jsonb language sql as $f$
  select coalesce(jsonb_agg(x order by x::text), '[]') from jsonb_array_elements(j) x
$f$;

create function pg_temp.parts_match(p_from timestamptz, p_to timestamptz, p_bucket interval) returns text language plpgsql as $f$
declare
  a jsonb := public.processing_analytics(p_from, p_to, p_bucket, 'rollup');
begin
  if a ->> 'source' <> 'rollup' then return 'source ' || (a ->> 'source'); end if;
  if pg_temp.sorted(a -> 'volume') <> pg_temp.sorted(coalesce((select jsonb_agg(to_jsonb(v)) from public.processing_volume(p_from, p_to, p_bucket, 'rollup') v), '[]')) then
    return 'volume';
  end if;
  if pg_temp.sorted(a -> 'success_rate') <> pg_temp.sorted(coalesce((select jsonb_agg(to_jsonb(v)) from public.processing_success_rate(p_from, p_to, p_bucket, 'rollup') v), '[]')) then
    return 'success_rate';
  end if;
  if pg_temp.sorted(a -> 'failures_by_stage') <> pg_temp.sorted(coalesce((select jsonb_agg(to_jsonb(v)) from public.processing_failures_by_stage(p_from, p_to, p_bucket, 'rollup') v), '[]')) then
    return 'failures_by_stage';
  end if;
  if pg_temp.sorted(a -> 'durations') <> pg_temp.sorted(coalesce((select jsonb_agg(to_jsonb(v)) from public.processing_duration_percentiles(p_from, p_to, p_bucket, 'completed', 'rollup') v), '[]')) then
    return 'durations';
  end if;
  if a -> 'top_errors' <> coalesce((select jsonb_agg(to_jsonb(v)) from public.processing_top_errors(p_from, p_to, 10, 'rollup') v), '[]') then
    return 'top_errors';
  end if;
  if jsonb_array_length(a -> 'volume') = 0 or jsonb_array_length(a -> 'durations') = 0 or jsonb_array_length(a -> 'top_errors') = 0 then
    return 'empty';
  end if;
  return 'ok';
end
$f$;

select is(pg_temp.parts_match((select f1 from w), (select t1 from w), '6 hours'), 'ok', 'w1, 6-hour buckets: combined = parts');
select is(pg_temp.parts_match((select f1 from w), (select t1 from w), '1 day'), 'ok', 'w1, daily buckets: combined = parts');
select is(pg_temp.parts_match((select f1 from w), (select t1 from w), null), 'ok', 'w1, one bucket: combined = parts');
select is(pg_temp.parts_match((select f1 from w), (select t2 from w), '1 hour'), 'ok', 'w2, hourly buckets: combined = parts');
select is(pg_temp.parts_match((select f1 from w), (select t2 from w), '1 day'), 'ok', 'w2, daily buckets: combined = parts');

-- The trailing-hour shortcut: taken for w2 (nothing after p_to in its hour), not for w1.
select ok((select p.hi_h > (select t2 from w) from vigil_private.analytics_rollup_plan((select f1 from w), (select t2 from w)) p),
          'w2: the trailing partial hour is answered from its rollup');
select ok((select p.hi_h <= (select t1 from w) from vigil_private.analytics_rollup_plan((select f1 from w), (select t1 from w)) p),
          'w1: rows after p_to in the trailing hour, so it is read raw');
select results_eq(
  $$select * from public.processing_volume((select f1 from w), (select t2 from w), '1 hour', 'rollup')$$,
  $$select * from public.processing_volume((select f1 from w), (select t2 from w), '1 hour', 'raw')$$,
  'w2 volume: rollups (trailing hour from its rollup) = raw');
select results_eq(
  $$select * from public.processing_failures_by_stage((select f1 from w), (select t2 from w), '1 day', 'rollup')$$,
  $$select * from public.processing_failures_by_stage((select f1 from w), (select t2 from w), '1 day', 'raw')$$,
  'w2 failures by stage: rollups = raw');
select results_eq(
  $$select bucket_start, events, avg_ms, min_ms, max_ms from public.processing_duration_percentiles((select f1 from w), (select t2 from w), '1 day', 'completed', 'rollup')$$,
  $$select bucket_start, events, avg_ms, min_ms, max_ms from public.processing_duration_percentiles((select f1 from w), (select t2 from w), '1 day', 'completed', 'raw')$$,
  'w2 duration count/avg/min/max: rollups = raw');
select results_eq(
  $$select * from public.processing_top_errors((select f1 from w), (select t2 from w), 10, 'rollup')$$,
  $$select * from public.processing_top_errors((select f1 from w), (select t2 from w), 10, 'raw')$$,
  'w2 top errors: rollups = raw');

-- A future-dated row after p_to in the trailing hour: the shortcut is not taken, answers stay exact.
select is(vigil_private.ingest_processing_events(
  array[gen_random_uuid()], array[gen_random_uuid()], array[gen_random_uuid()], array['completed'], array[5],
  array[null::text], array['summary'], array[(select t2 from w) + interval '30 seconds']), 1, 'a late row after p_to');
select ok((vigil_private.refresh_processing_rollups(10000) ->> 'hours')::int >= 1, 'its hour rebuilt');
select ok((select p.hi_h <= (select t2 from w) from vigil_private.analytics_rollup_plan((select f1 from w), (select t2 from w)) p),
          'w2 now has a row after p_to in its trailing hour: read raw');
select results_eq(
  $$select * from public.processing_volume((select f1 from w), (select t2 from w), '1 hour', 'rollup')$$,
  $$select * from public.processing_volume((select f1 from w), (select t2 from w), '1 hour', 'raw')$$,
  'w2 volume with a row after p_to: rollups = raw');

-- Dirty hours inside the window (marked, not rebuilt) come from raw rows in the combined pass too.
select is(vigil_private.mark_processing_rollups_dirty(date_trunc('hour', (select f1 from w)) + interval '5 hours',
                                                      date_trunc('hour', (select f1 from w)) + interval '7 hours'), 2::bigint,
          'two hours marked dirty');
select is(pg_temp.parts_match((select f1 from w), (select t1 from w), '6 hours'), 'ok', 'w1 with dirty hours: combined = parts');
select is(pg_temp.parts_match((select f1 from w), (select t2 from w), '1 day'), 'ok', 'w2 with dirty hours: combined = parts');
select results_eq(
  $$select * from public.processing_volume((select f1 from w), (select t1 from w), '6 hours', 'rollup')$$,
  $$select * from public.processing_volume((select f1 from w), (select t1 from w), '6 hours', 'raw')$$,
  'w1 with dirty hours: volume rollups = raw');

select * from finish();
rollback;
