-- Alerts: at most one open alert per service and type (a unique index, so concurrent writers
-- cannot both win), and the lifecycle active -> acknowledged -> resolved.
begin;
select plan(12);

insert into public.alert_events (id, service_name, alert_type)
  values ('cccccccc-0000-4000-8000-000000000001', 'life', 'service_down');

select throws_ok($$insert into public.alert_events (service_name, alert_type) values ('life', 'service_down')$$,
  '23505', null, 'a second open alert of the same service and type is refused');
select lives_ok($$insert into public.alert_events (service_name, alert_type) values ('life', 'service_degraded')$$,
  'another alert type of the same service may be open');

update public.alert_events set status = 'acknowledged' where id = 'cccccccc-0000-4000-8000-000000000001';
select isnt((select acknowledged_at from public.alert_events where id = 'cccccccc-0000-4000-8000-000000000001'), null,
  'acknowledging stamps acknowledged_at');
select throws_ok($$insert into public.alert_events (service_name, alert_type) values ('life', 'service_down')$$,
  '23505', null, 'an acknowledged alert still counts as open');
select throws_ok($$update public.alert_events set status = 'active' where id = 'cccccccc-0000-4000-8000-000000000001'$$,
  '23514', null, 'an acknowledged alert cannot go back to active');

update public.alert_events set status = 'resolved' where id = 'cccccccc-0000-4000-8000-000000000001';
select isnt((select resolved_at from public.alert_events where id = 'cccccccc-0000-4000-8000-000000000001'), null,
  'resolving stamps resolved_at');
select throws_ok($$update public.alert_events set status = 'acknowledged' where id = 'cccccccc-0000-4000-8000-000000000001'$$,
  '23514', null, 'a resolved alert stays resolved');
select lives_ok($$insert into public.alert_events (service_name, alert_type) values ('life', 'service_down')$$,
  'after resolution a new alert may open');

-- Retention: resolved alerts older than retention_days go, open ones never do.
insert into public.alert_events (id, service_name, alert_type, status, created_at, resolved_at) values
  ('cccccccc-0000-4000-8000-000000000002', 'old', 'service_down', 'resolved', now() - interval '40 days', now() - interval '39 days'),
  ('cccccccc-0000-4000-8000-000000000003', 'old', 'service_degraded', 'resolved', now() - interval '10 days', now() - interval '9 days');
insert into public.alert_events (id, service_name, alert_type, created_at)
  values ('cccccccc-0000-4000-8000-000000000004', 'old', 'service_down', now() - interval '60 days');

select is(vigil_private.purge_resolved_alerts() >= 1, true, 'purge reports what it removed');
select is((select count(*)::int from public.alert_events where id = 'cccccccc-0000-4000-8000-000000000002'), 0,
  'a resolved alert past retention is purged');
select is((select count(*)::int from public.alert_events where id = 'cccccccc-0000-4000-8000-000000000003'), 1,
  'a resolved alert within retention is kept');
select is((select count(*)::int from public.alert_events where id = 'cccccccc-0000-4000-8000-000000000004'), 1,
  'an open alert is never purged, however old');

select * from finish();
rollback;
