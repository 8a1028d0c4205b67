-- Acknowledge / resolve / silence: admins only; acknowledged_by records who.
begin;
select plan(10);

insert into public.monitored_services (name, kind, target, failure_threshold, allow_private_targets)
values ('t-perm', 'http', 'http://127.0.0.1:9/x', 1, true);
select vigil_private.record_probe_results('[{"service": "t-perm", "status": "down"}]'::jsonb);
create temp table ids as select id from public.alert_events where service_name = 't-perm' and status = 'active';
grant select on ids to authenticated, anon;
insert into auth.users (id, email, raw_app_meta_data) values
  ('00000000-0000-4000-8000-0000000000a1', 't-admin@example.com', '{"role": "admin"}'),
  ('00000000-0000-4000-8000-0000000000b2', 't-user@example.com', '{}');

set local role anon;
select throws_ok($$select vigil_private.acknowledge_alert((select id from ids))$$, '42501', null, 'anon cannot acknowledge');

set local role authenticated;
select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000000b2", "role": "authenticated", "app_metadata": {}}', true);
select throws_ok($$select vigil_private.acknowledge_alert((select id from ids))$$, '42501', null, 'a non-admin user cannot acknowledge');
select throws_ok($$select vigil_private.resolve_alert((select id from ids))$$, '42501', null, 'a non-admin user cannot resolve');
select throws_ok($$select vigil_private.silence('t-perm', now() + interval '1 hour')$$, '42501', null, 'a non-admin user cannot silence');
select is((select count(*)::int from public.alert_events), 0, 'a non-admin user sees no alerts (RLS)');
select throws_ok($$insert into public.monitored_services (name, kind, target) values ('t-evil', 'http', 'https://example.com')$$,
  '42501', null, 'a non-admin user cannot add a service');

select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000000a1", "role": "authenticated", "app_metadata": {"role": "admin"}}', true);
select lives_ok($$select vigil_private.acknowledge_alert((select id from ids), 'looking')$$, 'an admin acknowledges');
select lives_ok($$select vigil_private.resolve_alert((select id from ids), 'fixed')$$, 'an admin resolves');
reset role;

select is((select acknowledged_by from public.alert_events where id = (select id from ids)), '00000000-0000-4000-8000-0000000000a1'::uuid,
  'acknowledged_by is the admin');
select is((select status from public.alert_events where id = (select id from ids)), 'resolved', 'resolved by the admin');

select * from finish();
rollback;
