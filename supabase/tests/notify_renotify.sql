-- Re-notify while an alert stays open (configurable interval); acknowledged alerts are not re-notified.
begin;
select plan(4);

update vigil_private.settings set value = '30' where key = 'renotify_interval_minutes';
insert into public.monitored_services (name, kind, target, failure_threshold, allow_private_targets)
values ('t-re', 'http', 'http://127.0.0.1:9/x', 1, true);
insert into public.notification_channels (name, kind, config, services) values ('t-hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}', array['t-re']);
select vigil_private.record_probe_results(jsonb_build_array(jsonb_build_object('service', 't-re', 'status', 'down', 'checked_at', now() - interval '100 minutes')));

select vigil_private.enqueue_due_notifications(now() - interval '80 minutes');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id where a.service_name = 't-re' and o.kind = 'renotify'), 0,
  'not before the interval');
select vigil_private.enqueue_due_notifications(now() - interval '65 minutes');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id where a.service_name = 't-re' and o.kind = 'renotify'), 1,
  'once the interval passed');
select vigil_private.enqueue_due_notifications(now() - interval '60 minutes');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id where a.service_name = 't-re' and o.kind = 'renotify'), 1,
  'and not again until the next interval');
select vigil_private.acknowledge_alert((select id from public.alert_events where service_name = 't-re' and status = 'active'));
select vigil_private.enqueue_due_notifications(now());
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id where a.service_name = 't-re' and o.kind = 'renotify'), 1,
  'acknowledged: no more re-notifications');

select * from finish();
rollback;
