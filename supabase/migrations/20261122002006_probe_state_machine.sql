-- Probe runs and the alert state machine. The health-probe function calls start_probe_run() (claims
-- the due services under a lease), probes them, then record_probe_results() ONCE: checks inserted,
-- thresholds applied, alerts opened/escalated/resolved, flapping, dependencies and the notification
-- outbox, all in that one transaction.
create table if not exists vigil_private.probe_runs (
  id uuid primary key default extensions.gen_random_uuid(),
  trigger text not null check (trigger in ('cron', 'admin', 'api', 'test')),
  requested_by uuid,
  started_at timestamptz not null default clock_timestamp(),
  finished_at timestamptz,
  services_claimed integer not null default 0,
  results_recorded integer not null default 0,
  summary jsonb not null default '{}'::jsonb
);
create index if not exists probe_runs_started_at_idx on vigil_private.probe_runs (started_at);
create index if not exists probe_runs_trigger_started_idx on vigil_private.probe_runs (trigger, started_at);
alter table vigil_private.probe_runs enable row level security;
revoke all on table vigil_private.probe_runs from public, anon, authenticated, service_role;
grant select on table vigil_private.probe_runs to authenticated, service_role;
drop policy if exists "admins read probe runs" on vigil_private.probe_runs;
create policy "admins read probe runs" on vigil_private.probe_runs for select to authenticated
  using ((select vigil_private.jwt_is_admin()));

-- Heartbeat verdict, decided here from the last ping: {status, reason, age_seconds} or status 'pending'
-- (no ping yet and the first period has not passed: nothing to record).
create or replace function vigil_private.heartbeat_verdict(
  p_service public.monitored_services, p_state vigil_private.service_state, p_now timestamptz
) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_period integer := coalesce((p_service.config ->> 'period_seconds')::integer, p_service.interval_seconds);
  v_grace integer := coalesce((p_service.config ->> 'grace_seconds')::integer, 60);
  v_deadline interval := make_interval(secs => v_period + v_grace);
  v_age double precision;
begin
  if p_state.last_heartbeat_at is null then
    if p_service.created_at + v_deadline > p_now then
      return jsonb_build_object('status', 'pending', 'reason', 'waiting for the first ping');
    end if;
    return jsonb_build_object('status', 'down', 'reason', format('no ping received within %s s of creation', v_period + v_grace),
                              'period_seconds', v_period, 'grace_seconds', v_grace);
  end if;
  v_age := extract(epoch from p_now - p_state.last_heartbeat_at);
  if p_state.last_heartbeat_at + v_deadline < p_now then
    return jsonb_build_object('status', 'down', 'reason', format('last ping %s s ago (period %s s + grace %s s)', round(v_age::numeric), v_period, v_grace),
                              'age_seconds', round(v_age::numeric, 1), 'last_ping_at', p_state.last_heartbeat_at);
  end if;
  if p_state.last_heartbeat_status = 'fail' then
    return jsonb_build_object('status', 'down', 'reason', coalesce('job reported failure: ' || p_state.last_heartbeat_message, 'job reported failure'),
                              'age_seconds', round(v_age::numeric, 1), 'last_ping_at', p_state.last_heartbeat_at);
  end if;
  return jsonb_build_object('status', 'healthy', 'reason', 'ping received', 'age_seconds', round(v_age::numeric, 1),
                            'last_ping_at', p_state.last_heartbeat_at);
end
$$;
revoke all on function vigil_private.heartbeat_verdict(public.monitored_services, vigil_private.service_state, timestamptz) from public;

-- Starts a run: claims the enabled, due services (or the named ones; p_force ignores the interval)
-- that no other run holds, under a lease of timeout + 60 s. Overlapping runs skip each other's rows.
-- Returns {run_id, services: [...]} with everything the probes need except secret values.
create or replace function vigil_private.start_probe_run(
  p_trigger text default 'cron', p_services text[] default null, p_force boolean default false, p_requested_by uuid default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_run uuid;
  v_now timestamptz := clock_timestamp();
  v_services jsonb;
  v_count integer;
begin
  insert into vigil_private.service_state (service_id)
  select s.id from public.monitored_services s
  where not exists (select 1 from vigil_private.service_state st where st.service_id = s.id)
  on conflict do nothing;

  insert into vigil_private.probe_runs (trigger, requested_by, started_at)
  values (p_trigger, p_requested_by, v_now) returning id into v_run;

  with due as (
    select st.service_id
    from vigil_private.service_state st
    join public.monitored_services s on s.id = st.service_id
    where s.enabled
      and (p_services is null or s.name = any(p_services))
      and (st.lease_until is null or st.lease_until < v_now)
      and (p_force or st.last_claimed_at is null
           -- a little slack so a 60 s service is due at every per-minute tick despite jitter
           or st.last_claimed_at + make_interval(secs => s.interval_seconds - least(5, s.interval_seconds * 0.1)) <= v_now)
    order by st.last_claimed_at nulls first, st.service_id
    for update of st skip locked
  ), claimed as (
    update vigil_private.service_state st
    set lease_run_id = v_run,
        lease_until = v_now + make_interval(secs => s.timeout_ms / 1000.0 + 60),
        last_claimed_at = v_now,
        updated_at = v_now
    from due, public.monitored_services s
    where st.service_id = due.service_id and s.id = st.service_id
    returning st.*
  )
  select count(*)::integer,
         coalesce(jsonb_agg(jsonb_build_object(
           'id', s.id, 'name', s.name, 'kind', s.kind, 'target', s.target, 'config', s.config,
           'timeout_ms', s.timeout_ms, 'degraded_latency_ms', s.degraded_latency_ms,
           'allow_private_targets', s.allow_private_targets,
           'heartbeat', case when s.kind = 'heartbeat' then vigil_private.heartbeat_verdict(s, c, v_now) end
         ) order by s.name), '[]'::jsonb)
    into v_count, v_services
  from claimed c join public.monitored_services s on s.id = c.service_id;

  update vigil_private.probe_runs set services_claimed = v_count where id = v_run;
  return jsonb_build_object('run_id', v_run, 'started_at', v_now, 'services', v_services);
end
$$;
revoke all on function vigil_private.start_probe_run(text, text[], boolean, uuid) from public;

-- Opens an incident alert (service_down / service_degraded) and queues its notification.
create or replace function vigil_private.open_incident_alert(
  p_service public.monitored_services, p_state vigil_private.service_state, p_status text, p_details jsonb, p_at timestamptz
) returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
  v_cause text;
begin
  select d.name into v_cause
  from public.monitored_services d
  join vigil_private.service_state ds on ds.service_id = d.id
  where d.name = any(p_service.depends_on) and (ds.status = 'down' or ds.down_streak > 0)
  order by d.name limit 1;

  insert into public.alert_events (service_name, alert_type, status, details, created_at)
  values (p_service.name, case p_status when 'down' then 'service_down' else 'service_degraded' end, 'active',
          jsonb_strip_nulls(jsonb_build_object(
            'current_status', p_status,
            'reason', p_details ->> 'reason',
            'since', coalesce(p_state.first_bad_at, p_at),
            'consecutive_failures', p_state.bad_streak,
            'failure_threshold', p_service.failure_threshold,
            'caused_by', v_cause,
            'last_probe', p_details)),
          p_at)
  returning id into v_id;
  perform vigil_private.enqueue_notification(v_id, 'opened', p_at);
  return v_id;
end
$$;
revoke all on function vigil_private.open_incident_alert(public.monitored_services, vigil_private.service_state, text, jsonb, timestamptz) from public;

-- Resolves an open alert at p_at; for incidents also records the 'recovery' event. p_notify false
-- resolves silently (superseded by a flapping alert).
create or replace function vigil_private.close_alert(p_alert_id uuid, p_at timestamptz, p_notify boolean, p_extra jsonb default '{}'::jsonb)
returns void
language plpgsql
set search_path = ''
as $$
declare
  a public.alert_events;
begin
  update public.alert_events
  set status = 'resolved', resolved_at = greatest(p_at, created_at), details = details || p_extra
  where id = p_alert_id and status in ('active', 'acknowledged')
  returning * into a;
  if not found then
    return;
  end if;
  if p_notify then
    insert into public.alert_events (service_name, alert_type, status, details, created_at, resolved_at)
    values (a.service_name, 'recovery', 'resolved',
            jsonb_strip_nulls(jsonb_build_object(
              'recovered_alert_id', a.id, 'recovered_alert_type', a.alert_type,
              'down_since', a.created_at, 'duration_seconds', round(extract(epoch from a.resolved_at - a.created_at)::numeric, 3),
              'resolved_by', p_extra ->> 'resolved_by')),
            a.resolved_at, a.resolved_at);
    perform vigil_private.enqueue_notification(a.id, 'resolved', a.resolved_at);
  end if;
end
$$;
revoke all on function vigil_private.close_alert(uuid, timestamptz, boolean, jsonb) from public;

-- The state machine. p_results: [{service_id | service, status: healthy|degraded|down, latency_ms,
-- checked_at, details}]. With p_run_id, only results for services this run holds the lease on are
-- taken (a late run never overwrites a newer one); without it (admin/API pushes, tests) any enabled
-- or disabled service is accepted. Rows are locked in service_id order, so concurrent recordings
-- serialise per service without deadlocks; alert_events_one_open_idx backs the one-open-alert rule.
create or replace function vigil_private.record_probe_results(p_results jsonb, p_run_id uuid default null)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r record;
  st vigil_private.service_state;
  svc public.monitored_services;
  v_now timestamptz := clock_timestamp();
  v_window interval := make_interval(mins => vigil_private.setting_int('flap_window_minutes', 30));
  v_flap_threshold integer := vigil_private.setting_int('flap_threshold', 4);
  v_prev text;
  v_new text;
  v_open public.alert_events;
  v_flap_id uuid;
  v_recorded integer := 0;
  v_ignored jsonb := '[]'::jsonb;
  v_opened integer := 0;
  v_resolved integer := 0;
  v_escalated integer := 0;
  v_flapping integer := 0;
  v_details jsonb;
begin
  if p_results is null or jsonb_typeof(p_results) <> 'array' then
    raise exception 'p_results must be a JSON array' using errcode = '22023';
  end if;

  for r in
    with recursive input as (
      select x.ord,
             coalesce(s1.id, s2.id) as service_id,
             coalesce(x.e ->> 'service_id', x.e ->> 'service') as given,
             x.e ->> 'status' as status,
             case when jsonb_typeof(x.e -> 'latency_ms') = 'number'
                  then least(greatest(round((x.e ->> 'latency_ms')::numeric), 0), 2147483647)::integer end as latency_ms,
             -- the probe's clock, bounded: never after this transaction began
             least(coalesce(case when (x.e ->> 'checked_at') ~ '^\d{4}-\d\d-\d\dT' then (x.e ->> 'checked_at')::timestamptz end, now()), now()) as checked_at,
             case when jsonb_typeof(x.e -> 'details') = 'object' then x.e -> 'details' else '{}'::jsonb end
               - 'headers' - 'secret_headers' - 'authorization' as details
      from jsonb_array_elements(p_results) with ordinality as x(e, ord)
      left join public.monitored_services s1
        on (x.e ->> 'service_id') ~* '^[0-9a-f-]{36}$' and s1.id = (x.e ->> 'service_id')::uuid
      left join public.monitored_services s2 on s2.name = x.e ->> 'service'
    ), deps(id, name, depth, path) as (
      select s.id, s.name, 0, array[s.id] from public.monitored_services s
      union all
      select s.id, s.name, d.depth + 1, d.path || s.id
      from deps d join public.monitored_services s on d.name = any(s.depends_on)
      where not s.id = any(d.path) and d.depth < 20
    ), depth as (
      select id, max(depth) as depth from deps group by id
    )
    select i.*, coalesce(dp.depth, 0) as depth
    from input i left join depth dp on dp.id = i.service_id
    order by coalesce(dp.depth, 0), i.service_id, i.checked_at, i.ord
  loop
    if r.service_id is null then
      v_ignored := v_ignored || jsonb_build_object('service', r.given, 'reason', 'unknown service');
      continue;
    end if;
    if r.status is null or r.status not in ('healthy', 'degraded', 'down') then
      v_ignored := v_ignored || jsonb_build_object('service', r.given, 'reason', 'status must be healthy, degraded or down');
      continue;
    end if;

    insert into vigil_private.service_state (service_id) values (r.service_id) on conflict do nothing;
    select * into st from vigil_private.service_state where service_id = r.service_id for update;
    if p_run_id is not null and st.lease_run_id is distinct from p_run_id then
      v_ignored := v_ignored || jsonb_build_object('service', r.given, 'reason', 'lease not held by this run');
      continue;
    end if;
    select * into svc from public.monitored_services where id = r.service_id;

    insert into public.service_health_checks (service_name, status, latency_ms, checked_at, probe_details)
    values (svc.name, r.status, r.latency_ms, r.checked_at, r.details);
    v_recorded := v_recorded + 1;

    -- streaks
    if r.status = 'healthy' then
      st.ok_streak := st.ok_streak + 1; st.bad_streak := 0; st.down_streak := 0; st.not_down_streak := st.not_down_streak + 1;
      st.first_bad_at := null;
    elsif r.status = 'degraded' then
      st.ok_streak := 0; st.bad_streak := st.bad_streak + 1; st.down_streak := 0; st.not_down_streak := st.not_down_streak + 1;
    else
      st.ok_streak := 0; st.bad_streak := st.bad_streak + 1; st.down_streak := st.down_streak + 1; st.not_down_streak := 0;
    end if;
    if r.status <> 'healthy' and st.bad_streak = 1 then
      st.first_bad_at := r.checked_at;
    end if;
    st.last_result := r.status;
    st.last_checked_at := r.checked_at;

    -- thresholds -> confirmed status
    v_prev := st.status;
    v_new := v_prev;
    if v_prev = 'unknown' and r.status = 'healthy' then
      v_new := 'healthy';
    elsif v_prev in ('unknown', 'healthy') then
      if st.down_streak >= svc.failure_threshold then v_new := 'down';
      elsif st.bad_streak >= svc.failure_threshold then v_new := 'degraded';
      end if;
    elsif v_prev = 'degraded' then
      if st.down_streak >= svc.failure_threshold then v_new := 'down';
      elsif st.ok_streak >= svc.recovery_threshold then v_new := 'healthy';
      end if;
    elsif v_prev = 'down' then
      if st.ok_streak >= svc.recovery_threshold then v_new := 'healthy';
      elsif r.status = 'degraded' and st.not_down_streak >= svc.recovery_threshold then v_new := 'degraded';
      end if;
    end if;

    v_details := r.details;
    select * into v_open from public.alert_events
    where service_name = svc.name and alert_type in ('service_down', 'service_degraded') and status in ('active', 'acknowledged')
    for update;

    if v_new <> v_prev and not (v_prev = 'unknown' and v_new = 'healthy') then
      st.status := v_new;
      st.status_since := r.checked_at;
      st.last_state_change_at := r.checked_at;
      st.state_changes := array(select t from unnest(st.state_changes) t where t > r.checked_at - v_window order by t)
                          || r.checked_at;

      if st.flapping then
        update public.alert_events
        set details = details || jsonb_build_object('current_status', v_new, 'state_changes', cardinality(st.state_changes))
        where service_name = svc.name and alert_type = 'service_flapping' and status in ('active', 'acknowledged');
      elsif cardinality(st.state_changes) >= v_flap_threshold then
        st.flapping := true;
        v_flapping := v_flapping + 1;
        if v_open.id is not null then
          perform vigil_private.close_alert(v_open.id, r.checked_at, false, '{"superseded_by": "service_flapping"}'::jsonb);
        end if;
        insert into public.alert_events (service_name, alert_type, status, details, created_at)
        values (svc.name, 'service_flapping', 'active',
                jsonb_build_object('current_status', v_new, 'state_changes', cardinality(st.state_changes),
                                   'window_minutes', extract(epoch from v_window) / 60, 'reason', v_details ->> 'reason'),
                r.checked_at)
        on conflict (service_name, alert_type) where status in ('active', 'acknowledged') do nothing
        returning id into v_flap_id;
        if v_flap_id is not null then
          perform vigil_private.enqueue_notification(v_flap_id, 'flapping', r.checked_at);
        end if;
      elsif v_new in ('degraded', 'down') and v_prev in ('unknown', 'healthy') then
        if v_open.id is null then
          perform vigil_private.open_incident_alert(svc, st, v_new, v_details, r.checked_at);
          v_opened := v_opened + 1;
        end if;
      elsif v_new = 'down' and v_prev = 'degraded' then
        if v_open.id is null then
          perform vigil_private.open_incident_alert(svc, st, v_new, v_details, r.checked_at);
          v_opened := v_opened + 1;
        elsif v_open.alert_type = 'service_degraded' then
          -- escalation on the same open alert
          update public.alert_events
          set alert_type = 'service_down',
              details = details || jsonb_strip_nulls(jsonb_build_object(
                'current_status', 'down', 'reason', v_details ->> 'reason', 'escalated_at', r.checked_at,
                'consecutive_failures', st.bad_streak, 'last_probe', v_details))
          where id = v_open.id;
          perform vigil_private.enqueue_notification(v_open.id, 'escalated', r.checked_at);
          v_escalated := v_escalated + 1;
        end if;
      elsif v_new = 'degraded' and v_prev = 'down' then
        if v_open.id is not null then
          update public.alert_events set details = details || jsonb_build_object('current_status', 'degraded')
          where id = v_open.id;
        end if;
      elsif v_new = 'healthy' then
        if v_open.id is not null then
          perform vigil_private.close_alert(v_open.id, r.checked_at, true);
          v_resolved := v_resolved + 1;
        end if;
      end if;
    elsif v_open.id is not null and r.status <> 'healthy' then
      -- still failing: keep the alert's view of the latest probe current
      update public.alert_events
      set details = details || jsonb_strip_nulls(jsonb_build_object(
            'consecutive_failures', st.bad_streak, 'last_probe', v_details, 'last_failure_at', r.checked_at))
      where id = v_open.id;
    end if;

    -- a flapping service settles once its state stayed unchanged for a whole window
    if st.flapping and st.last_state_change_at <= r.checked_at - v_window then
      st.flapping := false;
      st.state_changes := '{}'::timestamptz[];
      select id into v_flap_id from public.alert_events
      where service_name = svc.name and alert_type = 'service_flapping' and status in ('active', 'acknowledged');
      if v_flap_id is not null then
        update public.alert_events set details = details || jsonb_build_object('current_status', st.status) where id = v_flap_id;
        perform vigil_private.close_alert(v_flap_id, r.checked_at, true);
      end if;
      if st.status in ('degraded', 'down') then
        perform vigil_private.open_incident_alert(svc, st, st.status, v_details, r.checked_at);
        v_opened := v_opened + 1;
      end if;
    end if;

    st.updated_at := v_now;
    update vigil_private.service_state set
      status = st.status, status_since = st.status_since, last_result = st.last_result, last_checked_at = st.last_checked_at,
      ok_streak = st.ok_streak, bad_streak = st.bad_streak, down_streak = st.down_streak, not_down_streak = st.not_down_streak,
      first_bad_at = st.first_bad_at, flapping = st.flapping, state_changes = st.state_changes,
      last_state_change_at = st.last_state_change_at, updated_at = st.updated_at
    where service_id = st.service_id;
  end loop;

  if p_run_id is not null then
    update vigil_private.service_state set lease_run_id = null, lease_until = null where lease_run_id = p_run_id;
    update vigil_private.probe_runs
    set finished_at = clock_timestamp(), results_recorded = v_recorded,
        summary = jsonb_build_object('opened', v_opened, 'resolved', v_resolved, 'escalated', v_escalated,
                                     'flapping', v_flapping, 'ignored', jsonb_array_length(v_ignored))
    where id = p_run_id;
  end if;

  return jsonb_build_object('run_id', p_run_id, 'recorded', v_recorded, 'opened', v_opened, 'resolved', v_resolved,
                            'escalated', v_escalated, 'flapping', v_flapping, 'ignored', v_ignored);
end
$$;
revoke all on function vigil_private.record_probe_results(jsonb, uuid) from public;
