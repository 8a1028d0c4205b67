-- Admin actions on alerts and services. SECURITY DEFINER (they write tables admins cannot write
-- directly), in the unexposed vigil_private schema, search_path pinned, executable only by
-- authenticated (admins, checked inside) and service_role.

-- Acknowledge: stops re-notification; records who (auth.uid()) and when.
create or replace function vigil_private.acknowledge_alert(p_alert_id uuid, p_note text default null)
returns public.alert_events
language plpgsql
security definer
set search_path = ''
as $$
declare
  a public.alert_events;
begin
  perform vigil_private.require_admin();
  update public.alert_events
  set status = 'acknowledged', acknowledged_at = greatest(now(), created_at), acknowledged_by = (select auth.uid()),
      details = details || jsonb_strip_nulls(jsonb_build_object('ack_note', left(p_note, 1000)))
  where id = p_alert_id and status = 'active' and alert_type <> 'recovery'
  returning * into a;
  if not found then
    raise exception 'alert % is not an active alert', p_alert_id using errcode = 'P0002';
  end if;
  return a;
end
$$;

-- Resolve by hand: the alert closes, a recovery event and a resolve notice follow (if anyone was told).
create or replace function vigil_private.resolve_alert(p_alert_id uuid, p_note text default null)
returns public.alert_events
language plpgsql
security definer
set search_path = ''
as $$
declare
  a public.alert_events;
begin
  perform vigil_private.require_admin();
  select * into a from public.alert_events where id = p_alert_id and status in ('active', 'acknowledged') and alert_type <> 'recovery'
  for update;
  if not found then
    raise exception 'alert % is not open', p_alert_id using errcode = 'P0002';
  end if;
  perform vigil_private.close_alert(a.id, now(), true, jsonb_strip_nulls(jsonb_build_object(
    'resolved_by', coalesce((select auth.uid())::text, 'sql'), 'resolve_note', left(p_note, 1000))));
  if a.alert_type = 'service_flapping' then
    update vigil_private.service_state st set flapping = false, state_changes = '{}'
    from public.monitored_services s where s.id = st.service_id and s.name = a.service_name;
  end if;
  select * into a from public.alert_events where id = p_alert_id;
  return a;
end
$$;

-- Silence a service (or every service: null) until p_until, or until its open alert resolves.
create or replace function vigil_private.silence(
  p_service_name text, p_until timestamptz default null, p_until_resolved boolean default false,
  p_alert_type text default null, p_reason text default ''
) returns public.alert_silences
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_alert uuid;
  s public.alert_silences;
begin
  perform vigil_private.require_admin();
  if p_until is null and not p_until_resolved then
    raise exception 'a silence needs an end: p_until or p_until_resolved' using errcode = '22023';
  end if;
  if p_until_resolved then
    select id into v_alert from public.alert_events
    where service_name = p_service_name and status in ('active', 'acknowledged') and alert_type <> 'recovery'
      and (p_alert_type is null or alert_type = p_alert_type)
    order by created_at desc limit 1;
    if v_alert is null then
      raise exception 'service % has no open alert to silence until resolved', p_service_name using errcode = 'P0002';
    end if;
  end if;
  insert into public.alert_silences (service_name, alert_type, alert_id, ends_at, reason, created_by)
  values (p_service_name, case when v_alert is null then p_alert_type end, v_alert, p_until, coalesce(p_reason, ''), (select auth.uid()))
  returning * into s;
  return s;
end
$$;

-- Silence one alert until it resolves (optionally also ending at p_until).
create or replace function vigil_private.silence_alert(p_alert_id uuid, p_until timestamptz default null, p_reason text default '')
returns public.alert_silences
language plpgsql
security definer
set search_path = ''
as $$
declare
  a public.alert_events;
  s public.alert_silences;
begin
  perform vigil_private.require_admin();
  select * into a from public.alert_events where id = p_alert_id and status in ('active', 'acknowledged') and alert_type <> 'recovery';
  if not found then
    raise exception 'alert % is not open', p_alert_id using errcode = 'P0002';
  end if;
  insert into public.alert_silences (service_name, alert_id, ends_at, reason, created_by)
  values (a.service_name, a.id, p_until, coalesce(p_reason, ''), (select auth.uid()))
  returning * into s;
  return s;
end
$$;

-- New random heartbeat token for a heartbeat service; returned once, only its SHA-256 is kept.
create or replace function vigil_private.rotate_heartbeat_token(p_service_name text)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_token text := 'vhb_' || encode(extensions.gen_random_bytes(24), 'hex');
begin
  perform vigil_private.require_admin();
  select id into v_id from public.monitored_services where name = p_service_name and kind = 'heartbeat';
  if v_id is null then
    raise exception 'no heartbeat service named %', p_service_name using errcode = 'P0002';
  end if;
  insert into vigil_private.heartbeat_tokens (service_id, token_sha256)
  values (v_id, extensions.digest(v_token, 'sha256'))
  on conflict (service_id) do update set token_sha256 = excluded.token_sha256, created_at = now();
  return v_token;
end
$$;

-- Called by the heartbeat function after it verified the token: records the ping.
create or replace function vigil_private.record_heartbeat(p_service_id uuid, p_ok boolean default true, p_message text default null)
returns timestamptz
language plpgsql
set search_path = ''
as $$
declare
  v_at timestamptz := clock_timestamp();
begin
  insert into vigil_private.service_state (service_id) values (p_service_id) on conflict do nothing;
  update vigil_private.service_state
  set last_heartbeat_at = v_at, last_heartbeat_status = case when p_ok then 'ok' else 'fail' end,
      last_heartbeat_message = left(p_message, 1000), updated_at = v_at
  where service_id = p_service_id;
  return v_at;
end
$$;

revoke all on function vigil_private.acknowledge_alert(uuid, text) from public;
revoke all on function vigil_private.resolve_alert(uuid, text) from public;
revoke all on function vigil_private.silence(text, timestamptz, boolean, text, text) from public;
revoke all on function vigil_private.silence_alert(uuid, timestamptz, text) from public;
revoke all on function vigil_private.rotate_heartbeat_token(text) from public;
revoke all on function vigil_private.record_heartbeat(uuid, boolean, text) from public;
grant execute on function vigil_private.acknowledge_alert(uuid, text) to authenticated, service_role;
grant execute on function vigil_private.resolve_alert(uuid, text) to authenticated, service_role;
grant execute on function vigil_private.silence(text, timestamptz, boolean, text, text) to authenticated, service_role;
grant execute on function vigil_private.silence_alert(uuid, timestamptz, text) to authenticated, service_role;
grant execute on function vigil_private.rotate_heartbeat_token(text) to authenticated, service_role;
