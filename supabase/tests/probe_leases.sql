-- Scheduling: only due services are claimed; overlapping runs never claim the same service; a run
-- may only record results for services it holds.
begin;
select plan(7);

insert into public.monitored_services (name, kind, target, interval_seconds, allow_private_targets)
values ('t-lease-a', 'http', 'http://127.0.0.1:9/a', 60, true), ('t-lease-b', 'http', 'http://127.0.0.1:9/b', 60, true);

create temp table run1 as select vigil_private.start_probe_run('test', array['t-lease-a', 't-lease-b']) as r;
create temp table run2 as select vigil_private.start_probe_run('test', array['t-lease-a', 't-lease-b']) as r;
select is((select jsonb_array_length(r -> 'services') from run1), 2, 'the first run claims both due services');
select is((select jsonb_array_length(r -> 'services') from run2), 0, 'an overlapping run claims neither');

select is((vigil_private.record_probe_results('[{"service": "t-lease-a", "status": "healthy"}]'::jsonb, (select (r ->> 'run_id')::uuid from run2)) ->> 'recorded')::int,
  0, 'a run cannot record a service it does not hold');
select is((vigil_private.record_probe_results('[{"service": "t-lease-a", "status": "healthy"}, {"service": "t-lease-b", "status": "healthy"}]'::jsonb,
  (select (r ->> 'run_id')::uuid from run1)) ->> 'recorded')::int, 2, 'the holder records both');
select is((select count(*)::int from vigil_private.service_state st join public.monitored_services s on s.id = st.service_id
           where s.name like 't-lease-%' and st.lease_run_id is not null), 0, 'leases released after recording');
select is((select jsonb_array_length(vigil_private.start_probe_run('test', array['t-lease-a', 't-lease-b']) -> 'services')), 0,
  'not due again before the interval');
select is((select jsonb_array_length(vigil_private.start_probe_run('admin', array['t-lease-a'], true) -> 'services')), 1,
  'an admin-forced run probes it anyway');

select * from finish();
rollback;
