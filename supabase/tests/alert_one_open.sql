-- At most one open alert per service and type, guaranteed by the database; recording the same
-- failures twice (as two overlapping recordings would) never opens a second alert.
-- (The truly concurrent case, two sessions at once, is in tests/probes/concurrency.test.ts.)
begin;
select plan(4);

insert into public.monitored_services (name, kind, target, failure_threshold, allow_private_targets)
values ('t-once', 'http', 'http://127.0.0.1:9/x', 1, true);

select vigil_private.record_probe_results('[{"service": "t-once", "status": "down"}]'::jsonb);
select vigil_private.record_probe_results('[{"service": "t-once", "status": "down"}, {"service": "t-once", "status": "down"}]'::jsonb);
select is((select count(*)::int from public.alert_events where service_name = 't-once' and status = 'active'), 1,
  'three recorded failures, one open alert');
select throws_ok(
  $$insert into public.alert_events (service_name, alert_type) values ('t-once', 'service_down')$$,
  '23505', null, 'a second open alert of the same type is rejected by the unique index');
select lives_ok(
  $$insert into public.alert_events (service_name, alert_type, status, resolved_at) values ('t-once', 'service_down', 'resolved', now())$$,
  'resolved alerts of the same type may coexist');
select is((select count(*)::int from public.service_health_checks where service_name = 't-once'), 3, 'all three results recorded');

select * from finish();
rollback;
