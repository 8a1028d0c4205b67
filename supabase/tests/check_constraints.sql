-- CHECK constraints reject bad values (SQLSTATE 23514), and good values pass.
begin;
select plan(16);

select lives_ok($$insert into public.service_health_checks (service_name, status, latency_ms, probe_details)
  values ('cc', 'degraded', 0, '{"http_status": 200}')$$, 'a valid health check is accepted');
select throws_ok($$insert into public.service_health_checks (service_name, status) values ('cc', 'unknown')$$,
  '23514', null, 'health check status must be healthy/degraded/down');
select throws_ok($$insert into public.service_health_checks (service_name, status, latency_ms) values ('cc', 'down', -1)$$,
  '23514', null, 'latency cannot be negative');
select throws_ok($$insert into public.service_health_checks (service_name, status, probe_details) values ('cc', 'down', '[1]')$$,
  '23514', null, 'probe_details must be a JSON object');
select throws_ok($$insert into public.service_health_checks (service_name, status) values ('', 'down')$$,
  '23514', null, 'service_name cannot be empty');

select lives_ok($$insert into public.alert_events (service_name, alert_type, details) values ('cc', 'service_degraded', '{}')$$,
  'a valid alert is accepted');
select throws_ok($$insert into public.alert_events (service_name, alert_type) values ('cc', 'meltdown')$$,
  '23514', null, 'alert_type must be service_down/service_degraded/recovery');
select throws_ok($$insert into public.alert_events (service_name, alert_type, status) values ('cc2', 'service_down', 'closed')$$,
  '23514', null, 'alert status must be active/acknowledged/resolved');
select throws_ok($$insert into public.alert_events (service_name, alert_type, status) values ('cc2', 'service_down', 'resolved')$$,
  '23514', null, 'a resolved alert needs resolved_at');

select lives_ok($$insert into public.document_processing_events (document_id, user_id, event_type, duration_ms, stage)
  values (gen_random_uuid(), gen_random_uuid(), 'failed', 10, 'ocr')$$, 'a valid processing event is accepted');
select throws_ok($$insert into public.document_processing_events (document_id, user_id, event_type) values (gen_random_uuid(), gen_random_uuid(), 'exploded')$$,
  '23514', null, 'event_type must be one of the four seed values');
select throws_ok($$insert into public.document_processing_events (document_id, user_id, event_type, duration_ms) values (gen_random_uuid(), gen_random_uuid(), 'completed', -5)$$,
  '23514', null, 'duration_ms cannot be negative');
select throws_ok($$insert into public.document_processing_events (document_id, user_id, event_type, stage) values (gen_random_uuid(), gen_random_uuid(), 'completed', repeat('s', 101))$$,
  '23514', null, 'stage is bounded');
select throws_ok($$insert into public.document_processing_events (document_id, user_id, event_type, error_message) values (gen_random_uuid(), gen_random_uuid(), 'failed', repeat('e', 2001))$$,
  '23514', null, 'error_message is bounded');

select throws_ok($$update vigil_private.settings set value = '0' where key = 'retention_days'$$,
  '23514', null, 'retention_days must be at least 1');
select throws_ok($$update vigil_private.settings set value = '"thirty"' where key = 'retention_days'$$,
  '23514', null, 'retention_days must be a number');

select * from finish();
rollback;
