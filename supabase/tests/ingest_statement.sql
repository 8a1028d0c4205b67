-- The ingest statement: idempotent on (id, created_at), reports how many rows were new, marks
-- only hours that got new rows, and is for the service only.
begin;
select plan(6);

create temporary table e on commit drop as
select gen_random_uuid() as id, gen_random_uuid() as document_id, gen_random_uuid() as user_id, 'completed'::text as event_type,
       10 as duration_ms, null::text as error_message, null::text as stage, now() - interval '2 hours' as created_at
from generate_series(1, 3);

delete from vigil_private.processing_rollup_dirty;
select is((select vigil_private.ingest_processing_events(array_agg(id), array_agg(document_id), array_agg(user_id), array_agg(event_type),
           array_agg(duration_ms), array_agg(error_message), array_agg(stage), array_agg(created_at)) from e), 3, 'three new rows');
select is((select count(*)::int from vigil_private.processing_rollup_dirty), 1, 'one dirty mark for the one hour');
select is((select vigil_private.ingest_processing_events(array_agg(id), array_agg(document_id), array_agg(user_id), array_agg(event_type),
           array_agg(duration_ms), array_agg(error_message), array_agg(stage), array_agg(created_at)) from e), 0, 'resent: nothing new');
select is((select count(*)::int from vigil_private.processing_rollup_dirty), 1, 'resent: no new dirty mark');
select is((select count(*)::int from public.document_processing_events where id in (select id from e)), 3, 'each event stored once');
select ok(not has_function_privilege('anon', 'vigil_private.ingest_processing_events(uuid[], uuid[], uuid[], text[], integer[], text[], text[], timestamptz[])', 'execute'),
          'anon cannot call the ingest statement');

select * from finish();
rollback;
