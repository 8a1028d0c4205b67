-- Daily partitions: created ahead, stranded rows moved out of the default partition, expired
-- partitions dropped according to the retention setting (with back-dated data).
begin;
select plan(13);

create function pg_temp.has_part(tbl text, day date) returns boolean language sql as $$
  select to_regclass(format('vigil_partitions.%s_p%s', tbl, to_char(day, 'YYYYMMDD'))) is not null
$$;

select vigil_private.maintain_partitions();
select ok(pg_temp.has_part('document_processing_events', current_date + 7), 'events: partition 7 days ahead exists');
select ok(pg_temp.has_part('service_health_checks', current_date + 7), 'checks: partition 7 days ahead exists');
select ok(pg_temp.has_part('document_processing_events', current_date - 30), 'events: partitions cover the retention window');
select is((select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'vigil_partitions' and c.relkind = 'r' and not c.relrowsecurity), 0,
  'every partition has RLS enabled');

-- Back-dated data, then a shorter retention.
insert into public.document_processing_events (document_id, user_id, event_type, created_at)
  values (gen_random_uuid(), gen_random_uuid(), 'completed', now() - interval '10 days');
insert into public.service_health_checks (service_name, status, checked_at)
  values ('pm', 'healthy', now() - interval '10 days');
update vigil_private.settings set value = '3' where key = 'retention_days';
select ok(jsonb_array_length(vigil_private.maintain_partitions() -> 'dropped') >= 2, 'maintenance reports dropped partitions');
select ok(not pg_temp.has_part('document_processing_events', current_date - 10), 'events: partition past retention dropped');
select ok(not pg_temp.has_part('service_health_checks', current_date - 10), 'checks: partition past retention dropped');
select is((select count(*)::int from public.document_processing_events where created_at < now() - interval '5 days'), 0,
  'back-dated events went with their partition');
select ok(pg_temp.has_part('document_processing_events', current_date - 3), 'the partition at the retention edge is kept');

-- A row beyond every partition lands in the default partition; when its day's partition is
-- created, the row moves into it.
insert into public.document_processing_events (id, document_id, user_id, event_type, created_at)
  values ('dddddddd-0000-4000-8000-000000000001', gen_random_uuid(), gen_random_uuid(), 'completed', now() + interval '20 days');
select is((select tableoid::regclass::text from public.document_processing_events where id = 'dddddddd-0000-4000-8000-000000000001'),
  'vigil_partitions.document_processing_events_default', 'a row with no partition yet lands in the default partition');
update vigil_private.settings set value = '21' where key = 'partition_days_ahead';
select vigil_private.maintain_partitions();
select is((select tableoid::regclass::text from public.document_processing_events where id = 'dddddddd-0000-4000-8000-000000000001'),
  'vigil_partitions.document_processing_events_p' || to_char(current_date + 20, 'YYYYMMDD'),
  'creating its partition moves the row out of the default partition');

-- Time passing: run as if it were 5 days later.
select vigil_private.maintain_partitions(current_date + 5);
select ok(not pg_temp.has_part('document_processing_events', current_date - 1), 'five days on, the day that expired is dropped');
select ok(pg_temp.has_part('document_processing_events', current_date + 26), 'five days on, partitions extend further ahead');

select * from finish();
rollback;
