-- Outbox delivery: claimed once (skip locked + lease), retried with backoff, failed after max attempts.
begin;
select plan(9);

insert into public.monitored_services (name, kind, target, failure_threshold, allow_private_targets)
values ('t-deliv', 'http', 'http://127.0.0.1:9/x', 1, true);
insert into public.notification_channels (name, kind, config, max_attempts, backoff_seconds, services)
values ('t-flaky', 'webhook', '{"url": "http://127.0.0.1:9/hook"}', 3, 10, array['t-deliv']);
update public.notification_outbox set next_attempt_at = now() + interval '1 day' where status = 'pending';  -- park others
select vigil_private.record_probe_results('[{"service": "t-deliv", "status": "down"}]'::jsonb);

create temp table c1 as select vigil_private.claim_notifications(100) as j;
select is((select count(*)::int from c1, jsonb_array_elements(j) e where e -> 'payload' ->> 'service_name' = 't-deliv'), 1, 'claimed once');
select is((select count(*)::int from jsonb_array_elements(vigil_private.claim_notifications(100)) e where e -> 'payload' ->> 'service_name' = 't-deliv'), 0,
  'a second worker gets nothing while the lease lasts');
create temp table oid as select (e ->> 'id')::bigint as id from c1, jsonb_array_elements(j) e where e -> 'payload' ->> 'service_name' = 't-deliv';

select vigil_private.complete_notifications(jsonb_build_array(jsonb_build_object('id', (select id from oid), 'attempt', 1, 'ok', false, 'retryable', true, 'status', 500, 'error', 'HTTP 500')));
select is((select status from public.notification_outbox where id = (select id from oid)), 'pending', 'retryable failure: pending again');
select cmp_ok((select next_attempt_at from public.notification_outbox where id = (select id from oid)), '>=', clock_timestamp() + interval '9 seconds',
  'with backoff (10 s after the first attempt)');

update public.notification_outbox set next_attempt_at = now() - interval '1 second' where id = (select id from oid);
select vigil_private.claim_notifications(100);
select vigil_private.complete_notifications(jsonb_build_array(jsonb_build_object('id', (select id from oid), 'attempt', 2, 'ok', false, 'retryable', true, 'error', 'timeout')));
select cmp_ok((select next_attempt_at from public.notification_outbox where id = (select id from oid)), '>=', clock_timestamp() + interval '19 seconds',
  'backoff doubles');
update public.notification_outbox set next_attempt_at = now() - interval '1 second' where id = (select id from oid);
select vigil_private.claim_notifications(100);
select vigil_private.complete_notifications(jsonb_build_array(jsonb_build_object('id', (select id from oid), 'attempt', 3, 'ok', false, 'retryable', true, 'error', 'HTTP 503')));
select is((select status from public.notification_outbox where id = (select id from oid)), 'failed', 'failed after max_attempts');
select is((select count(*)::int from public.notification_attempts where outbox_id = (select id from oid)), 3, 'every attempt is visible');
select is((select last_error from public.notification_outbox where id = (select id from oid)), 'HTTP 503', 'with the last error');
-- a stale completion (wrong attempt) is ignored
select is((vigil_private.complete_notifications(jsonb_build_array(jsonb_build_object('id', (select id from oid), 'attempt', 1, 'ok', true))) ->> 'sent')::int, 0,
  'a completion from a worker that lost the lease is ignored');

select * from finish();
rollback;
