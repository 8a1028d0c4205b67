-- Degraded opens service_degraded; down escalates the SAME alert to service_down.
begin;
select plan(7);

create function pg_temp.rec(svc text, st text, mins_ago int) returns jsonb language sql as $$
  select vigil_private.record_probe_results(jsonb_build_array(jsonb_build_object(
    'service', svc, 'status', st, 'checked_at', now() - make_interval(mins => mins_ago), 'details', jsonb_build_object('reason', st))))
$$;

insert into public.monitored_services (name, kind, target, failure_threshold, recovery_threshold, allow_private_targets)
values ('t-ocr', 'http', 'http://127.0.0.1:9/ocr', 2, 1, true);
insert into public.notification_channels (name, kind, config) values ('t-hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}');

select pg_temp.rec('t-ocr', 'degraded', 30);
select pg_temp.rec('t-ocr', 'degraded', 29);
select is((select alert_type from public.alert_events where service_name = 't-ocr' and status = 'active'), 'service_degraded',
  'two degraded results open a service_degraded alert');
create temp table first_alert as select id from public.alert_events where service_name = 't-ocr' and status = 'active';
select pg_temp.rec('t-ocr', 'down', 28);
select is((select alert_type from public.alert_events where service_name = 't-ocr' and status = 'active'), 'service_degraded',
  'one down result (threshold 2) does not escalate yet');
select pg_temp.rec('t-ocr', 'down', 27);
select is((select alert_type from public.alert_events where id = (select id from first_alert)), 'service_down',
  'second down result escalates the same alert to service_down');
select is((select count(*)::int from public.alert_events where service_name = 't-ocr' and alert_type <> 'recovery'), 1, 'still one alert');
select is((select array_agg(kind order by id) from public.notification_outbox where alert_id = (select id from first_alert)),
  array['opened', 'escalated'], 'notified opened, then escalated');
select pg_temp.rec('t-ocr', 'healthy', 26);
select is((select status from public.alert_events where id = (select id from first_alert)), 'resolved', 'recovers');
select is((select array_agg(kind order by id) from public.notification_outbox where alert_id = (select id from first_alert)),
  array['opened', 'escalated', 'resolved'], 'and the resolve notice follows');

select * from finish();
rollback;
