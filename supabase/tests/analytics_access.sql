-- Who may read processing analytics: admins (through RLS) and service_role; not other users, not anon.
begin;
select plan(9);

select ok(has_function_privilege('authenticated', 'public.processing_analytics(timestamptz, timestamptz, interval, text)', 'execute'),
          'authenticated may execute processing_analytics');
select ok(not has_function_privilege('anon', 'public.processing_analytics(timestamptz, timestamptz, interval, text)', 'execute'),
          'anon may not execute processing_analytics');
select ok(not has_function_privilege('anon', 'public.processing_volume(timestamptz, timestamptz, interval, text)', 'execute'),
          'anon may not execute processing_volume');
select ok(not has_function_privilege('authenticated', 'vigil_private.ingest_processing_events(uuid[], uuid[], uuid[], text[], integer[], text[], text[], timestamptz[])', 'execute'),
          'authenticated may not ingest directly');
select ok((select bool_and(c.relrowsecurity) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'vigil_private' and c.relname in ('processing_rollup_hourly', 'processing_latency_hourly',
                                                               'processing_errors_hourly', 'processing_rollup_dirty')),
          'RLS is on for every rollup table');

insert into vigil_private.processing_rollup_hourly (hour, event_type, stage, events, with_duration)
values (date_trunc('hour', now() - interval '3 days'), 'completed', 'x', 1, 0);

set local role authenticated;
select set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-8000-000000000001","role":"authenticated","app_metadata":{"role":"admin"}}', true);
select lives_ok($$select public.processing_analytics(now() - interval '7 days', now(), '1 day')$$, 'an admin reads analytics');
select ok((select count(*) from vigil_private.processing_rollup_hourly) > 0, 'an admin reads rollups');

select set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-8000-000000000002","role":"authenticated","app_metadata":{},"user_metadata":{"role":"admin"}}', true);
select throws_ok($$select public.processing_analytics(now() - interval '7 days', now(), '1 day')$$, '42501', null,
                 'a non-admin (even with role admin in user_metadata) gets 42501');
select is((select count(*)::int from vigil_private.processing_rollup_hourly), 0, 'a non-admin reads no rollup row');

reset role;
select * from finish();
rollback;
