-- Too many state changes in the window: one flapping alert, not a storm; it settles after a quiet window.
begin;
select plan(7);

update vigil_private.settings set value = '4' where key = 'flap_threshold';
update vigil_private.settings set value = '30' where key = 'flap_window_minutes';

create function pg_temp.rec(svc text, st text, mins_ago int) returns jsonb language sql as $$
  select vigil_private.record_probe_results(jsonb_build_array(jsonb_build_object(
    'service', svc, 'status', st, 'checked_at', now() - make_interval(mins => mins_ago))))
$$;

insert into public.monitored_services (name, kind, target, failure_threshold, recovery_threshold, allow_private_targets)
values ('t-flap', 'http', 'http://127.0.0.1:9/x', 1, 1, true);
insert into public.notification_channels (name, kind, config) values ('t-hook', 'webhook', '{"url": "http://127.0.0.1:9/hook"}');

select pg_temp.rec('t-flap', 'healthy', 100);
-- 12 alternating results = 12 confirmed state changes within 12 minutes
select pg_temp.rec('t-flap', case when i % 2 = 0 then 'down' else 'healthy' end, 99 - i) from generate_series(0, 11) i;

select is((select count(*)::int from public.alert_events where service_name = 't-flap' and alert_type = 'service_flapping'), 1,
  'one flapping alert');
select is((select count(*)::int from public.alert_events where service_name = 't-flap' and alert_type = 'service_down'), 2,
  'only the down alerts before flapping was detected (2), none after');
select is((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-flap' and o.kind = 'flapping'), 1, 'one flapping notice');
select cmp_ok((select count(*)::int from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
           where a.service_name = 't-flap'), '<=', 5, 'at most 5 notices for 12 state changes');
select is((select flapping from vigil_private.service_state st join public.monitored_services s on s.id = st.service_id where s.name = 't-flap'),
  true, 'service is marked flapping');

-- last change was at minute 88 (healthy); stable (healthy) results for a whole window settle it
select pg_temp.rec('t-flap', 'healthy', 70);
select pg_temp.rec('t-flap', 'healthy', 55);
select is((select status from public.alert_events where service_name = 't-flap' and alert_type = 'service_flapping'), 'resolved',
  'flapping alert resolves after a quiet window');
select is((select count(*)::int from public.alert_events where service_name = 't-flap' and status in ('active', 'acknowledged')), 0,
  'healthy at the end: nothing open');

select * from finish();
rollback;
