-- Scheduling: pg_cron calls the health-probe and deliver-notifications edge functions through
-- pg_net, authenticated by a secret key read from Vault. Nothing secret is in this migration:
-- the project creates two Vault secrets (see README):
--   vigil_project_url  e.g. https://<ref>.supabase.co   (local stack: http://127.0.0.1:54321)
--   vigil_secret_key   a secret API key (sb_secret_...) or the legacy service_role key
do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_net')
     and not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net') then
    create extension pg_net;
  end if;
end
$$;

create or replace function vigil_private.vault_secret(p_name text)
returns text
language sql stable
set search_path = ''
as $$
  select decrypted_secret from vault.decrypted_secrets where name = p_name order by created_at desc limit 1
$$;
revoke all on function vigil_private.vault_secret(text) from public;

-- Queues a POST to /functions/v1/<p_function> (sent by pg_net after commit). Raises when the Vault
-- entries are missing, so the cron run is recorded as failed and the scheduler probe reports it.
create or replace function vigil_private.dispatch_function(p_function text, p_body jsonb default '{}'::jsonb, p_timeout_ms integer default 120000)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_url text := vigil_private.vault_secret('vigil_project_url');
  v_key text := vigil_private.vault_secret('vigil_secret_key');
  v_id bigint;
begin
  if v_url is null or v_key is null then
    raise exception 'Vault secrets vigil_project_url and vigil_secret_key must exist to call edge functions from pg_cron'
      using errcode = 'P0002';
  end if;
  v_id := net.http_post(
    url := rtrim(v_url, '/') || '/functions/v1/' || p_function,
    body := p_body,
    headers := jsonb_build_object('content-type', 'application/json', 'apikey', v_key, 'authorization', 'Bearer ' || v_key),
    timeout_milliseconds := p_timeout_ms);
  insert into vigil_private.dispatches (request_id, function_name) values (v_id, p_function)
  on conflict (request_id) do nothing;
  return v_id;
end
$$;
revoke all on function vigil_private.dispatch_function(text, jsonb, integer) from public;

-- Every minute: calls health-probe when at least one service is due (and not leased).
create or replace function vigil_private.dispatch_probes()
returns bigint
language plpgsql
set search_path = ''
as $$
begin
  if not exists (
    select 1 from public.monitored_services s
    left join vigil_private.service_state st on st.service_id = s.id
    where s.enabled
      and (st.lease_until is null or st.lease_until < now())
      and (st.last_claimed_at is null
           or st.last_claimed_at + make_interval(secs => s.interval_seconds - least(5, s.interval_seconds * 0.1)) <= now())
  ) then
    return null;
  end if;
  return vigil_private.dispatch_function('health-probe', '{"trigger": "cron"}'::jsonb);
end
$$;
revoke all on function vigil_private.dispatch_probes() from public;

-- Every minute: queues re-notifications, then calls deliver-notifications when anything is due.
create or replace function vigil_private.dispatch_notifications()
returns bigint
language plpgsql
set search_path = ''
as $$
begin
  perform vigil_private.enqueue_due_notifications();
  if not exists (
    select 1 from public.notification_outbox o
    where (o.status = 'pending' and o.next_attempt_at <= now()) or (o.status = 'sending' and o.locked_until < now())
  ) then
    return null;
  end if;
  return vigil_private.dispatch_function('deliver-notifications', '{"trigger": "cron"}'::jsonb);
end
$$;
revoke all on function vigil_private.dispatch_notifications() from public;

create or replace function vigil_private.purge_probe_history()
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  n bigint;
  m bigint;
begin
  delete from vigil_private.probe_runs where started_at < now() - interval '7 days';
  get diagnostics n = row_count;
  delete from vigil_private.dispatches where created_at < now() - interval '1 day';
  get diagnostics m = row_count;
  return n + m;
end
$$;
revoke all on function vigil_private.purge_probe_history() from public;

select cron.schedule('vigil-probe-dispatch', '* * * * *', $$select vigil_private.dispatch_probes()$$);
select cron.schedule('vigil-notify-dispatch', '* * * * *', $$select vigil_private.dispatch_notifications()$$);
select cron.schedule('vigil-probe-housekeeping', '41 4 * * *', $$select vigil_private.purge_probe_history()$$);
