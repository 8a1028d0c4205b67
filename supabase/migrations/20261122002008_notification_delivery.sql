-- Outbox delivery. A worker claims due rows (for update skip locked + a lease, so overlapping
-- workers never take the same row), sends them, and reports every outcome to
-- complete_notifications(), which decides: sent, retry later (exponential backoff, Retry-After
-- honoured) or failed after the channel's max_attempts. enqueue_due_notifications() re-notifies.

create or replace function vigil_private.claim_notifications(p_limit integer default 50)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_lease interval := make_interval(secs => vigil_private.setting_int('notify_lease_seconds', 120));
  v_out jsonb;
begin
  with due as (
    select o.id from public.notification_outbox o
    where (o.status = 'pending' and o.next_attempt_at <= v_now)
       or (o.status = 'sending' and o.locked_until < v_now)
    order by o.next_attempt_at, o.id
    limit greatest(1, least(p_limit, 500))
    for update skip locked
  ), claimed as (
    update public.notification_outbox o
    set status = 'sending', attempts = o.attempts + 1, locked_until = v_now + v_lease, updated_at = v_now
    from due where o.id = due.id
    returning o.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id, 'attempt', c.attempts, 'kind', c.kind, 'payload', c.payload,
           'channel', jsonb_build_object('id', ch.id, 'name', ch.name, 'kind', ch.kind, 'config', ch.config, 'timeout_ms', ch.timeout_ms)
         ) order by c.id), '[]'::jsonb)
    into v_out
  from claimed c join public.notification_channels ch on ch.id = c.channel_id;
  return v_out;
end
$$;
revoke all on function vigil_private.claim_notifications(integer) from public;

-- p_results: [{id, attempt, ok, retryable, status?, error?, retry_after_ms?, provider_message_id?}]
create or replace function vigil_private.complete_notifications(p_results jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r record;
  o public.notification_outbox;
  ch public.notification_channels;
  v_now timestamptz := clock_timestamp();
  v_delay double precision;
  v_sent integer := 0;
  v_retry integer := 0;
  v_failed integer := 0;
begin
  if p_results is null or jsonb_typeof(p_results) <> 'array' then
    raise exception 'p_results must be a JSON array' using errcode = '22023';
  end if;
  for r in
    select (e ->> 'id')::bigint as id, (e ->> 'attempt')::integer as attempt, coalesce((e ->> 'ok')::boolean, false) as ok,
           coalesce((e ->> 'retryable')::boolean, true) as retryable,
           case when jsonb_typeof(e -> 'status') = 'number' then (e ->> 'status')::integer end as http_status,
           left(e ->> 'error', 2000) as error,
           left(e ->> 'provider_message_id', 500) as provider_message_id,
           case when jsonb_typeof(e -> 'retry_after_ms') = 'number' then (e ->> 'retry_after_ms')::double precision end as retry_after_ms
    from jsonb_array_elements(p_results) e
    order by 1
  loop
    select * into o from public.notification_outbox where id = r.id for update;
    -- only the worker holding this attempt may complete it
    if not found or o.status <> 'sending' or o.attempts is distinct from r.attempt then
      continue;
    end if;
    insert into public.notification_attempts (outbox_id, attempt, finished_at, ok, retryable, http_status, error, provider_message_id)
    values (o.id, o.attempts, v_now, r.ok, r.ok is false and r.retryable, r.http_status, r.error, r.provider_message_id);
    if r.ok then
      update public.notification_outbox
      set status = 'sent', sent_at = v_now, locked_until = null, last_error = null, updated_at = v_now
      where id = o.id;
      v_sent := v_sent + 1;
    elsif r.retryable and o.attempts < o.max_attempts then
      select * into ch from public.notification_channels where id = o.channel_id;
      -- backoff_seconds * 2^(attempt-1), capped at 1 h, at least what Retry-After asked (capped at 1 h)
      v_delay := least(3600, coalesce(ch.backoff_seconds, 30) * power(2, o.attempts - 1));
      v_delay := greatest(v_delay, least(3600, coalesce(r.retry_after_ms, 0) / 1000.0));
      update public.notification_outbox
      set status = 'pending', next_attempt_at = v_now + make_interval(secs => v_delay), locked_until = null,
          last_error = coalesce(r.error, 'delivery failed'), updated_at = v_now
      where id = o.id;
      v_retry := v_retry + 1;
    else
      update public.notification_outbox
      set status = 'failed', locked_until = null, last_error = coalesce(r.error, 'delivery failed'), updated_at = v_now
      where id = o.id;
      v_failed := v_failed + 1;
    end if;
  end loop;
  return jsonb_build_object('sent', v_sent, 'retrying', v_retry, 'failed', v_failed);
end
$$;
revoke all on function vigil_private.complete_notifications(jsonb) from public;

-- Re-notification and deferred notices: for every open, unacknowledged incident or flapping alert,
-- tells the channels now if nobody was told yet (the notice was suppressed by maintenance, a silence
-- or a dependency that has since ended) or again when the re-notify interval has passed.
create or replace function vigil_private.enqueue_due_notifications(p_now timestamptz default now())
returns integer
language plpgsql
set search_path = ''
as $$
declare
  a record;
  v_every integer := vigil_private.setting_int('renotify_interval_minutes', 60);
  v_n integer := 0;
begin
  for a in
    select e.id, e.alert_type, ns.first_notified_at, ns.last_notified_at
    from public.alert_events e
    left join vigil_private.alert_notify_state ns on ns.alert_id = e.id
    where e.status = 'active' and e.alert_type <> 'recovery'
      and (ns.first_notified_at is null
           or (v_every > 0 and ns.last_notified_at <= p_now - make_interval(mins => v_every)))
    order by e.created_at
    for update of e skip locked
  loop
    if a.first_notified_at is null then
      -- would be suppressed again: enqueue_notification writes 'suppressed' rows, so check first
      if vigil_private.notification_suppression((select service_name from public.alert_events where id = a.id), a.alert_type, a.id, p_now) is not null
         or exists (select 1 from public.alert_events e
                    join public.monitored_services d on d.name = e.details ->> 'caused_by'
                    join vigil_private.service_state ds on ds.service_id = d.id
                    where e.id = a.id and (ds.status = 'down' or ds.down_streak > 0)) then
        continue;
      end if;
      perform vigil_private.enqueue_notification(a.id, case when a.alert_type = 'service_flapping' then 'flapping' else 'opened' end, p_now);
    else
      if vigil_private.notification_suppression((select service_name from public.alert_events where id = a.id), a.alert_type, a.id, p_now) is not null then
        continue;
      end if;
      perform vigil_private.enqueue_notification(a.id, 'renotify', p_now);
    end if;
    v_n := v_n + 1;
  end loop;
  return v_n;
end
$$;
revoke all on function vigil_private.enqueue_due_notifications(timestamptz) from public;
