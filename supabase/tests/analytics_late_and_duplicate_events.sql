-- Rollups stay equal to raw rows after late events (into hours already rolled up) and duplicates
-- (resent events that are not stored must not be counted), both before the next refresh (dirty
-- hours are read from raw rows) and after it.
begin;
select plan(10);

create temporary table w on commit drop as
select date_trunc('hour', now() - interval '24 days') as f, date_trunc('hour', now() - interval '24 days') + interval '12 hours' as t;

create temporary table t_events on commit drop as
select gen_random_uuid() as id, gen_random_uuid() as document_id, gen_random_uuid() as user_id,
       (array['completed','failed'])[1 + (i % 2)] as event_type, (i * 37) % 9000 as duration_ms,
       case when i % 2 = 1 then 'timeout ' || (i % 3) end as error_message, 'llm' as stage,
       (select f from w) + i * interval '20 seconds' as created_at
from generate_series(1, 2000) i;

create function pg_temp.ingest(q text) returns integer language plpgsql as $f$
declare n integer;
begin
  execute format($s$select vigil_private.ingest_processing_events(array_agg(id), array_agg(document_id), array_agg(user_id),
    array_agg(event_type), array_agg(duration_ms), array_agg(error_message), array_agg(stage), array_agg(created_at)) from (%s) x$s$, q)
    into n;
  return n;
end
$f$;

create function pg_temp.same() returns boolean language sql as $f$
  select not exists (
    (select * from public.processing_volume((select f from w), (select t from w), '1 hour', 'rollup')
     except all select * from public.processing_volume((select f from w), (select t from w), '1 hour', 'raw'))
    union all
    (select * from public.processing_volume((select f from w), (select t from w), '1 hour', 'raw')
     except all select * from public.processing_volume((select f from w), (select t from w), '1 hour', 'rollup')))
  and not exists (
    (select * from public.processing_top_errors((select f from w), (select t from w), 100, 'rollup')
     except all select * from public.processing_top_errors((select f from w), (select t from w), 100, 'raw')))
  and (select count(*) from public.processing_top_errors((select f from w), (select t from w), 100, 'rollup'))
    = (select count(*) from public.processing_top_errors((select f from w), (select t from w), 100, 'raw'))
$f$;

select is(pg_temp.ingest('select * from t_events where created_at < (select f from w) + interval ''6 hours'''), 1079, 'first part stored');
select vigil_private.refresh_processing_rollups(10000);
select ok(pg_temp.same(), 'rollups = raw after the first refresh');

-- Duplicates: the whole first part again. Nothing new is stored, no hour is marked dirty.
delete from vigil_private.processing_rollup_dirty;
select is(pg_temp.ingest('select * from t_events where created_at < (select f from w) + interval ''6 hours'''), 0, 'a resent batch stores nothing');
select is((select count(*)::int from vigil_private.processing_rollup_dirty), 0, 'duplicates mark no hour dirty');
select ok(pg_temp.same(), 'rollups = raw after duplicates');

-- Late events: the rest, including rows landing in hours that were already rolled up.
update t_events set created_at = (select f from w) + (created_at - (select f from w)) / 2
where created_at >= (select f from w) + interval '6 hours' and document_id::text < '8';
select ok(pg_temp.ingest('select * from t_events where created_at >= (select f from w) + interval ''6 hours'' or document_id::text < ''8''') > 0,
          'late and new events stored');
select ok((select count(*) from vigil_private.processing_rollup_dirty where hour < (select f from w) + interval '6 hours') > 0,
          'late events marked their (already rolled-up) hours dirty');
select ok(pg_temp.same(), 'rollups = raw before the refresh (dirty hours are read raw)');
select vigil_private.refresh_processing_rollups(10000);
select ok(pg_temp.same(), 'rollups = raw after the refresh');
select is((select sum(events)::int from vigil_private.processing_rollup_hourly where hour >= (select f from w) and hour < (select t from w)),
          (select count(*)::int from public.document_processing_events where created_at >= (select f from w) and created_at < (select t from w)),
          'the rollup table itself counts every stored event once');

select * from finish();
rollback;
