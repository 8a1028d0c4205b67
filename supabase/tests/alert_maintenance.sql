-- Maintenance windows suppress notifications, not recording; the notice goes out if still down after.
begin;
select plan(6);

create function pg_temp.rec(svc text, st text, mins_ago int) returns jsonb language sql as $$
  select vigil_private.record_probe_results(jsonb_build_array(jsonb_build_object(
    'service', svc, 'status', st, 'checked_at', now() - make_interval(mins => mins_ago))))
$$;

insert into public.monitored_services (name, kind, target, failure_threshold, allow_private_targets)
values ('t-maint', 'http', 'http://127.0.0.1:9/x', 2, true);
insert into public.notification_channels (name, kind, config) values ('t-hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}');
insert into public.maintenance_windows (service_name, starts_at, ends_at, reason)
values ('t-maint', now() - interval '60 minutes', now() - interval '10 minutes', 'upgrade');

select pg_temp.rec('t-maint', 'down', 40);
select pg_temp.rec('t-maint', 'down', 39);
select is((select count(*)::int from public.service_health_checks where service_name = 't-maint'), 2, 'checks recorded during maintenance');
select is((select count(*)::int from public.alert_events where service_name = 't-maint' and status = 'active'), 1, 'alert recorded during maintenance');
select is((select o.status || '/' || o.suppressed_reason from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-maint'), 'suppressed/maintenance', 'the notice is suppressed (and visible as such)');
select vigil_private.enqueue_due_notifications(now() - interval '20 minutes');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-maint' and o.status = 'pending'), 0, 'nothing sent while the window lasts');
select vigil_private.enqueue_due_notifications(now());
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-maint' and o.status = 'pending' and o.kind = 'opened'), 1,
  'still down after the window: the opened notice goes out then');
-- a whole incident inside a window: no resolve notice for something nobody was told about
insert into public.monitored_services (name, kind, target, failure_threshold, recovery_threshold, allow_private_targets)
values ('t-maint2', 'http', 'http://127.0.0.1:9/y', 1, 1, true);
insert into public.maintenance_windows (service_name, starts_at, ends_at) values ('t-maint2', now() - interval '1 hour', now() + interval '1 hour');
select pg_temp.rec('t-maint2', 'down', 30);
select pg_temp.rec('t-maint2', 'healthy', 29);
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-maint2' and o.status <> 'suppressed'), 0, 'incident inside maintenance: nothing sent, no resolve notice');

select * from finish();
rollback;
