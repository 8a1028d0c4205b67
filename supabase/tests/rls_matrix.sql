-- RLS and grants: anon / user / other user / admin / service_role x every table x select/insert/update/delete.
begin;
select plan(100);

insert into auth.users (id, email, raw_app_meta_data) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'rls-admin@test', '{"role":"admin"}'),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'rls-user@test', '{}'),
  ('aaaaaaaa-0000-4000-8000-000000000003', 'rls-other@test', '{}');

insert into public.service_health_checks (id, service_name, status, latency_ms)
  values ('bbbbbbbb-0000-4000-8000-000000000001', 'rls-test', 'healthy', 5);
insert into public.alert_events (id, service_name, alert_type)
  values ('bbbbbbbb-0000-4000-8000-000000000002', 'rls-test', 'service_down');
insert into public.document_processing_events (id, document_id, user_id, event_type) values
  ('bbbbbbbb-0000-4000-8000-000000000003', gen_random_uuid(), 'aaaaaaaa-0000-4000-8000-000000000002', 'completed'),
  ('bbbbbbbb-0000-4000-8000-000000000004', gen_random_uuid(), 'aaaaaaaa-0000-4000-8000-000000000003', 'failed');

-- Runs `stmt` as `api_role` with JWT `claims`, the way PostgREST does, and reports
-- 'ok:<rows seen or changed>' or 'err:<sqlstate>'. It always ends by raising, so the exception
-- block undoes both the role switch and whatever the statement changed: probes leave no trace.
create function pg_temp.try_as(api_role text, claims jsonb, stmt text) returns text
language plpgsql as $$
declare
  n bigint;
begin
  perform set_config('request.jwt.claims', claims::text, true);
  perform set_config('role', api_role, true);
  if stmt ~* '^\s*select' then
    execute format('select count(*) from (%s) s', stmt) into n;
  else
    execute stmt;
    get diagnostics n = row_count;
  end if;
  raise exception using errcode = 'VGL01', message = 'ok:' || n;
exception when others then
  return case when sqlstate = 'VGL01' then sqlerrm else 'err:' || sqlstate end;
end
$$;

create temp table who (label text, api_role text, claims jsonb);
insert into who values
  ('anon', 'anon', '{"role":"anon"}'),
  ('user', 'authenticated', '{"sub":"aaaaaaaa-0000-4000-8000-000000000002","role":"authenticated","app_metadata":{}}'),
  ('other user', 'authenticated', '{"sub":"aaaaaaaa-0000-4000-8000-000000000003","role":"authenticated","app_metadata":{}}'),
  ('admin', 'authenticated', '{"sub":"aaaaaaaa-0000-4000-8000-000000000001","role":"authenticated","app_metadata":{"role":"admin"}}'),
  ('service_role', 'service_role', '{"role":"service_role"}');

create temp table ops (tbl text, op text, stmt text);
insert into ops values
  ('service_health_checks', 'select', 'select * from public.service_health_checks'),
  ('service_health_checks', 'insert', $$insert into public.service_health_checks (service_name, status) values ('rls-test', 'down')$$),
  ('service_health_checks', 'update', $$update public.service_health_checks set latency_ms = 6 where id = 'bbbbbbbb-0000-4000-8000-000000000001'$$),
  ('service_health_checks', 'delete', $$delete from public.service_health_checks where id = 'bbbbbbbb-0000-4000-8000-000000000001'$$),
  ('alert_events', 'select', 'select * from public.alert_events'),
  ('alert_events', 'insert', $$insert into public.alert_events (service_name, alert_type, status, resolved_at) values ('rls-test', 'recovery', 'resolved', now())$$),
  ('alert_events', 'update', $$update public.alert_events set details = '{"x":1}' where id = 'bbbbbbbb-0000-4000-8000-000000000002'$$),
  ('alert_events', 'delete', $$delete from public.alert_events where id = 'bbbbbbbb-0000-4000-8000-000000000002'$$),
  ('document_processing_events', 'select', 'select * from public.document_processing_events'),
  ('document_processing_events', 'insert', $$insert into public.document_processing_events (document_id, user_id, event_type) values (gen_random_uuid(), 'aaaaaaaa-0000-4000-8000-000000000002', 'completed')$$),
  ('document_processing_events', 'update', $$update public.document_processing_events set stage = 'x' where id = 'bbbbbbbb-0000-4000-8000-000000000003'$$),
  ('document_processing_events', 'delete', $$delete from public.document_processing_events where id = 'bbbbbbbb-0000-4000-8000-000000000003'$$),
  ('settings', 'select', 'select * from vigil_private.settings'),
  ('settings', 'insert', $$insert into vigil_private.settings (key, value) values ('rls_test', '1')$$),
  ('settings', 'update', $$update vigil_private.settings set description = description where key = 'retention_days'$$),
  ('settings', 'delete', $$delete from vigil_private.settings where key = 'retention_days'$$),
  ('partition (direct)', 'select', 'select * from vigil_partitions.document_processing_events_default'),
  ('partition (direct)', 'insert', $$insert into vigil_partitions.document_processing_events_default (document_id, user_id, event_type, created_at) values (gen_random_uuid(), gen_random_uuid(), 'completed', '2000-01-01')$$),
  ('partition (direct)', 'update', $$update vigil_partitions.document_processing_events_default set stage = 'x'$$),
  ('partition (direct)', 'delete', 'delete from vigil_partitions.document_processing_events_default');

-- What each caller must get. Row counts for reads are computed from the data (other rows may exist).
create temp table expected (label text, tbl text, op text, result text);
insert into expected
select w.label, o.tbl, o.op,
  case
    -- anon reaches nothing at all.
    when w.label = 'anon' then 'err:42501'
    -- Nobody but service_role writes.
    when o.op <> 'select' and w.label <> 'service_role' then 'err:42501'
    -- Partitions are reached only through their parent table, by everyone.
    when o.tbl = 'partition (direct)' then 'err:42501'
    when o.op <> 'select' then 'ok:1'
    when w.label = 'service_role' or w.label = 'admin' then 'ok:' || (
      case o.tbl
        when 'service_health_checks' then (select count(*) from public.service_health_checks)
        when 'alert_events' then (select count(*) from public.alert_events)
        when 'document_processing_events' then (select count(*) from public.document_processing_events)
        when 'settings' then (select count(*) from vigil_private.settings)
      end)
    -- Ordinary users see only their own processing events, and no monitoring data.
    when o.tbl = 'document_processing_events' then 'ok:' || (
      select count(*) from public.document_processing_events e where e.user_id = (w.claims ->> 'sub')::uuid)
    else 'ok:0'
  end
from who w cross join ops o;

select is(pg_temp.try_as(w.api_role, w.claims, o.stmt), e.result,
          format('%s %s %s -> %s', w.label, o.op, o.tbl, e.result))
from who w
join ops o on true
join expected e on e.label = w.label and e.tbl = o.tbl and e.op = o.op
order by o.tbl, o.op, w.label;

select * from finish();
rollback;
