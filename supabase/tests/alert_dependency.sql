-- A service whose dependency is down gets its alert marked as caused by it and does not page.
begin;
select plan(5);

create function pg_temp.rec2(a text, sa text, b text, sb text, mins_ago int) returns jsonb language sql as $$
  select vigil_private.record_probe_results(jsonb_build_array(
    jsonb_build_object('service', a, 'status', sa, 'checked_at', now() - make_interval(mins => mins_ago)),
    jsonb_build_object('service', b, 'status', sb, 'checked_at', now() - make_interval(mins => mins_ago))))
$$;

insert into public.monitored_services (name, kind, target, failure_threshold, recovery_threshold)
values ('t-db', 'postgres', 'database', 2, 1);
insert into public.monitored_services (name, kind, target, failure_threshold, recovery_threshold, depends_on, allow_private_targets)
values ('t-app', 'http', 'http://127.0.0.1:9/app', 2, 1, array['t-db'], true);
insert into public.notification_channels (name, kind, config) values ('t-hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}');

-- results listed dependent-first: the function orders by dependency depth itself
select pg_temp.rec2('t-app', 'down', 't-db', 'down', 20);
select pg_temp.rec2('t-app', 'down', 't-db', 'down', 19);
select is((select details ->> 'caused_by' from public.alert_events where service_name = 't-app' and status = 'active'), 't-db',
  'the dependent alert is marked as caused by the dependency');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-db' and o.status = 'pending'), 1, 'the dependency pages');
select is((select o.status || '/' || o.suppressed_reason from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-app'), 'suppressed/dependency_down', 'the dependent does not page');
-- dependency recovers, dependent stays down: now it is its own problem
select pg_temp.rec2('t-app', 'down', 't-db', 'healthy', 18);
select vigil_private.enqueue_due_notifications(now());
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-app' and o.status = 'pending' and o.kind = 'opened'), 1,
  'dependency recovered but the dependent is still down: it pages now');
select pg_temp.rec2('t-app', 'healthy', 't-db', 'healthy', 17);
select is((select count(*)::int from public.alert_events where service_name in ('t-app', 't-db') and status in ('active', 'acknowledged')), 0,
  'both resolved');

select * from finish();
rollback;
