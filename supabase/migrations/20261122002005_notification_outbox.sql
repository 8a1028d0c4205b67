-- Notification channels (configured by admins), the outbox the state machine writes in its own
-- transaction, and every delivery attempt. Delivery is in 20261122002008.
create table if not exists public.notification_channels (
  id uuid primary key default extensions.gen_random_uuid(),
  name text not null unique check (name ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$'),
  kind text not null check (kind in ('slack', 'webhook', 'email', 'email-api')),
  -- Provider settings; secrets by Vault name only (secret_name, *_secret_name, secret_headers).
  config jsonb not null default '{}'::jsonb check (jsonb_typeof(config) = 'object' and pg_column_size(config) <= 16384),
  enabled boolean not null default true,
  -- null = every service
  services text[],
  -- 'critical' = down only; 'warning' = down, degraded, flapping; 'info' = everything
  min_severity text not null default 'warning' check (min_severity in ('critical', 'warning', 'info')),
  max_attempts integer not null default 5 check (max_attempts between 1 and 50),
  backoff_seconds integer not null default 30 check (backoff_seconds between 0 and 86400),
  timeout_ms integer not null default 10000 check (timeout_ms between 500 and 60000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.notification_channels is 'Where alerts are sent. Admins write through RLS.';

create or replace function vigil_private.notification_channels_validate()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  k text;
begin
  new.updated_at := now();
  select key into k from jsonb_object_keys(new.config) key
  where lower(key) in ('password', 'pass', 'secret', 'token', 'api_key', 'apikey', 'signing_secret', 'authorization')
  limit 1;
  if k is not null then
    raise exception 'channel %: config.% looks like a secret; store it in Vault and reference it by name (e.g. secret_name, password_secret_name, api_key_secret_name)', new.name, k
      using errcode = '22023';
  end if;
  return new;
end
$$;
revoke all on function vigil_private.notification_channels_validate() from public;
drop trigger if exists notification_channels_validate on public.notification_channels;
create trigger notification_channels_validate
  before insert or update on public.notification_channels
  for each row execute function vigil_private.notification_channels_validate();

create table if not exists public.notification_outbox (
  id bigint generated always as identity primary key,
  alert_id uuid not null references public.alert_events (id) on delete cascade,
  channel_id uuid not null references public.notification_channels (id) on delete cascade,
  kind text not null check (kind in ('opened', 'escalated', 'renotify', 'resolved', 'flapping')),
  -- The notification exactly as sent (the providers' Notification shape).
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed', 'suppressed')),
  suppressed_reason text check (suppressed_reason in ('maintenance', 'silenced', 'dependency_down')),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null check (max_attempts >= 1),
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  last_error text check (char_length(last_error) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  constraint notification_outbox_suppressed_reason check ((status = 'suppressed') = (suppressed_reason is not null))
);
create index if not exists notification_outbox_due_idx on public.notification_outbox (next_attempt_at)
  where status in ('pending', 'sending');
create index if not exists notification_outbox_alert_idx on public.notification_outbox (alert_id);
create index if not exists notification_outbox_channel_idx on public.notification_outbox (channel_id);
create index if not exists notification_outbox_created_at_idx on public.notification_outbox (created_at);

create table if not exists public.notification_attempts (
  id bigint generated always as identity primary key,
  outbox_id bigint not null references public.notification_outbox (id) on delete cascade,
  attempt integer not null check (attempt >= 1),
  finished_at timestamptz not null default now(),
  ok boolean not null,
  retryable boolean not null,
  http_status integer,
  error text check (char_length(error) <= 2000),
  provider_message_id text check (char_length(provider_message_id) <= 500)
);
create index if not exists notification_attempts_outbox_idx on public.notification_attempts (outbox_id);

alter table public.notification_channels enable row level security;
alter table public.notification_outbox enable row level security;
alter table public.notification_attempts enable row level security;
revoke all on table public.notification_channels, public.notification_outbox, public.notification_attempts
  from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.notification_channels to authenticated, service_role;
-- Only the delivery machinery writes the outbox; admins read it (failures visible in SQL).
grant select on table public.notification_outbox, public.notification_attempts to authenticated, service_role;

drop policy if exists "admins read channels" on public.notification_channels;
create policy "admins read channels" on public.notification_channels for select to authenticated
  using ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins add channels" on public.notification_channels;
create policy "admins add channels" on public.notification_channels for insert to authenticated
  with check ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins change channels" on public.notification_channels;
create policy "admins change channels" on public.notification_channels for update to authenticated
  using ((select vigil_private.jwt_is_admin())) with check ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins remove channels" on public.notification_channels;
create policy "admins remove channels" on public.notification_channels for delete to authenticated
  using ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins read outbox" on public.notification_outbox;
create policy "admins read outbox" on public.notification_outbox for select to authenticated
  using ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins read attempts" on public.notification_attempts;
create policy "admins read attempts" on public.notification_attempts for select to authenticated
  using ((select vigil_private.jwt_is_admin()));

-- Per alert: whether anyone was actually told (a resolve notice only follows a real notice) and
-- when last (re-notify interval).
create table if not exists vigil_private.alert_notify_state (
  alert_id uuid primary key references public.alert_events (id) on delete cascade,
  first_notified_at timestamptz,
  last_notified_at timestamptz,
  notices integer not null default 0
);
alter table vigil_private.alert_notify_state enable row level security;
revoke all on table vigil_private.alert_notify_state from public, anon, authenticated, service_role;

create or replace function vigil_private.alert_severity(p_alert_type text)
returns text
language sql immutable
set search_path = ''
as $$
  select case p_alert_type when 'service_down' then 'critical' when 'recovery' then 'info' else 'warning' end
$$;
revoke all on function vigil_private.alert_severity(text) from public;

-- Queues one notification about an alert for every matching channel, in the caller's transaction.
-- Suppressed (maintenance, silence, dependency down) notices are written with status 'suppressed'
-- so the decision stays visible; a resolve notice only follows a notice that really went out.
-- Returns the number of rows queued for sending.
create or replace function vigil_private.enqueue_notification(
  p_alert_id uuid, p_kind text, p_at timestamptz default now()
) returns integer
language plpgsql
set search_path = ''
as $$
declare
  a public.alert_events;
  ns vigil_private.alert_notify_state;
  v_kind text := p_kind;
  v_reason text;
  v_severity text;
  v_summary text;
  v_label text;
  v_payload jsonb;
  v_queued integer := 0;
  v_rows integer;
begin
  select * into a from public.alert_events where id = p_alert_id;
  if not found then
    return 0;
  end if;
  select * into ns from vigil_private.alert_notify_state where alert_id = p_alert_id;
  if v_kind = 'resolved' and ns.first_notified_at is null then
    return 0;
  end if;
  if v_kind in ('escalated', 'renotify') and ns.first_notified_at is null then
    v_kind := case when a.alert_type = 'service_flapping' then 'flapping' else 'opened' end;
  end if;

  v_reason := vigil_private.notification_suppression(a.service_name, a.alert_type, a.id, p_at);
  if v_reason is null and v_kind <> 'resolved' and a.details ? 'caused_by' and exists (
       select 1 from public.monitored_services d
       join vigil_private.service_state ds on ds.service_id = d.id
       where d.name = a.details ->> 'caused_by' and (ds.status = 'down' or ds.down_streak > 0)) then
    v_reason := 'dependency_down';
  end if;

  v_severity := case when v_kind = 'resolved' then 'info' else vigil_private.alert_severity(a.alert_type) end;
  v_label := case a.alert_type when 'service_down' then 'DOWN' when 'service_degraded' then 'DEGRADED' else 'FLAPPING' end;
  v_summary := case v_kind
    when 'opened' then format('%s is %s: %s', a.service_name, v_label, coalesce(a.details ->> 'reason', 'probe failed'))
    when 'flapping' then format('%s is FLAPPING: %s state changes within %s minutes; down/recovery alerts are held until it settles',
                               a.service_name, coalesce(a.details ->> 'state_changes', '?'), coalesce(a.details ->> 'window_minutes', '?'))
    when 'escalated' then format('%s went from DEGRADED to DOWN: %s', a.service_name, coalesce(a.details ->> 'reason', 'probe failed'))
    when 'renotify' then format('%s is still %s (since %s): %s', a.service_name, v_label,
                               to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), coalesce(a.details ->> 'reason', 'probe failed'))
    else case when a.alert_type = 'service_flapping'
           then format('%s stopped flapping; current status %s', a.service_name, coalesce(a.details ->> 'current_status', 'unknown'))
           else format('%s recovered after %s', a.service_name,
                       coalesce(to_char(coalesce(a.resolved_at, p_at) - a.created_at, 'HH24"h"MI"m"SS"s"'), 'an outage')) end
  end;
  if a.details ? 'resolved_by' and v_kind = 'resolved' then
    v_summary := format('%s: alert resolved by an admin', a.service_name);
  end if;

  v_payload := jsonb_build_object(
    'alert_id', a.id,
    'kind', v_kind,
    'service_name', a.service_name,
    'alert_type', a.alert_type,
    'status', a.status,
    'severity', v_severity,
    'summary', v_summary,
    'details', a.details - 'last_probe',
    'occurred_at', to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  );

  insert into public.notification_outbox (alert_id, channel_id, kind, payload, status, suppressed_reason, max_attempts)
  select a.id, c.id, v_kind, v_payload,
         case when v_reason is null then 'pending' else 'suppressed' end, v_reason, c.max_attempts
  from public.notification_channels c
  where c.enabled
    and (c.services is null or a.service_name = any(c.services))
    and case c.min_severity
          when 'critical' then vigil_private.alert_severity(a.alert_type) = 'critical'
          when 'warning' then vigil_private.alert_severity(a.alert_type) in ('critical', 'warning')
          else true end;
  get diagnostics v_rows = row_count;
  if v_reason is null then
    v_queued := v_rows;
    insert into vigil_private.alert_notify_state (alert_id, first_notified_at, last_notified_at, notices)
    values (a.id, p_at, p_at, 1)
    on conflict (alert_id) do update
      set first_notified_at = coalesce(vigil_private.alert_notify_state.first_notified_at, excluded.first_notified_at),
          last_notified_at = excluded.last_notified_at,
          notices = vigil_private.alert_notify_state.notices + 1;
    -- Wakes a listening delivery worker (delivered on commit).
    perform pg_notify('vigil_notifications', a.id::text);
  end if;
  return v_queued;
end
$$;
revoke all on function vigil_private.enqueue_notification(uuid, text, timestamptz) from public;
