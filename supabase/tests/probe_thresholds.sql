-- N consecutive failures before an alert, M successes before recovery, one recovery event + notices.
begin;
select plan(12);

create function pg_temp.rec(svc text, st text, mins_ago int) returns jsonb language sql as $$
  select vigil_private.record_probe_results(jsonb_build_array(jsonb_build_object(
    'service', svc, 'status', st, 'latency_ms', 12, 'checked_at', now() - make_interval(mins => mins_ago),
    'details', jsonb_build_object('reason', 'HTTP 503'))))
$$;

insert into public.monitored_services (name, kind, target, failure_threshold, recovery_threshold, allow_private_targets)
values ('t-api', 'http', 'http://127.0.0.1:9/health', 3, 2, true);
insert into public.notification_channels (name, kind, config) values ('t-hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}');

select pg_temp.rec('t-api', 'healthy', 60);
select pg_temp.rec('t-api', 'down', 59);
select pg_temp.rec('t-api', 'down', 58);
select is((select count(*)::int from public.alert_events where service_name = 't-api'), 0, 'two failures (threshold 3): no alert');
select pg_temp.rec('t-api', 'down', 57);
select is((select count(*)::int from public.alert_events where service_name = 't-api' and alert_type = 'service_down' and status = 'active'), 1,
  'third consecutive failure opens one service_down alert');
select pg_temp.rec('t-api', 'down', 56);
select pg_temp.rec('t-api', 'down', 55);
select is((select count(*)::int from public.alert_events where service_name = 't-api'), 1, 'further failures: still one alert');
select is((select count(*)::int from public.service_health_checks where service_name = 't-api'), 6, 'every probe result is recorded');
select is((select details ->> 'reason' from public.alert_events where service_name = 't-api'), 'HTTP 503', 'alert carries the reason');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-api' and o.kind = 'opened' and o.status = 'pending'), 1, 'one opened notification queued');

select pg_temp.rec('t-api', 'healthy', 54);
select is((select status from public.alert_events where service_name = 't-api' and alert_type = 'service_down'), 'active',
  'one success (recovery threshold 2): still open');
select pg_temp.rec('t-api', 'down', 53);
select pg_temp.rec('t-api', 'healthy', 52);
select is((select status from public.alert_events where service_name = 't-api' and alert_type = 'service_down'), 'active',
  'successes must be consecutive');
select pg_temp.rec('t-api', 'healthy', 51);
select is((select status from public.alert_events where service_name = 't-api' and alert_type = 'service_down'), 'resolved',
  'second consecutive success resolves the alert');
select is((select count(*)::int from public.alert_events where service_name = 't-api' and alert_type = 'recovery'), 1,
  'one recovery event recorded');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-api' and o.kind = 'resolved'), 1, 'one resolve notice queued');
select is((select status from vigil_private.service_state st join public.monitored_services s on s.id = st.service_id where s.name = 't-api'),
  'healthy', 'service state is healthy again');

select * from finish();
rollback;
