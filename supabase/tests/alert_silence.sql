-- Silences with expiry, and "until resolved".
begin;
select plan(5);

create function pg_temp.rec(svc text, st text, mins_ago int) returns jsonb language sql as $$
  select vigil_private.record_probe_results(jsonb_build_array(jsonb_build_object(
    'service', svc, 'status', st, 'checked_at', now() - make_interval(mins => mins_ago))))
$$;

insert into public.monitored_services (name, kind, target, failure_threshold, recovery_threshold, allow_private_targets)
values ('t-sil', 'http', 'http://127.0.0.1:9/x', 1, 1, true), ('t-sil2', 'http', 'http://127.0.0.1:9/y', 1, 1, true);
insert into public.notification_channels (name, kind, config) values ('t-hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}');

-- silence with an expiry in the past covers notices of that time only
insert into public.alert_silences (service_name, starts_at, ends_at, reason) values ('t-sil', now() - interval '2 hours', now() - interval '20 minutes', 'known issue');
select pg_temp.rec('t-sil', 'down', 30);
select is((select suppressed_reason from public.notification_outbox o join public.alert_events a on a.id = o.alert_id where a.service_name = 't-sil'),
  'silenced', 'notice suppressed while the silence lasts');
select is((select count(*)::int from public.alert_events where service_name = 't-sil' and status = 'active'), 1, 'alert still recorded');
select vigil_private.enqueue_due_notifications(now());
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-sil' and o.status = 'pending'), 1, 'after expiry the alert is notified');

-- until resolved: bound to the open alert, covers renotify and the resolve notice, ends with it
select pg_temp.rec('t-sil2', 'down', 30);
select vigil_private.silence('t-sil2', null, true, null, 'working on it');
update public.alert_silences set starts_at = now() - interval '1 hour' where service_name = 't-sil2';
select vigil_private.enqueue_due_notifications(now() + interval '3 hours');
select pg_temp.rec('t-sil2', 'healthy', 5);
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-sil2' and o.kind in ('renotify', 'resolved') and o.status = 'pending'), 0,
  'until-resolved silence: no renotify, no resolve notice');
select pg_temp.rec('t-sil2', 'down', 4);
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-sil2' and a.status = 'active' and o.status = 'pending' and o.kind = 'opened'), 1,
  'the next incident is notified again');

select * from finish();
rollback;
