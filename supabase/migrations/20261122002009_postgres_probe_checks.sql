-- Verdicts of the 'postgres' probe kind, decided in the database. The probe measures the round trip
-- of the call itself; these return {status, reason, ...}.

-- target 'database': connection saturation (client backends against max_connections minus the
-- reserved slots). config: degraded_connection_ratio (default 0.8), down_connection_ratio (0.95).
create or replace function vigil_private.database_health(p_config jsonb default '{}'::jsonb)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_used integer;
  v_max integer := current_setting('max_connections')::integer - current_setting('superuser_reserved_connections')::integer;
  v_ratio numeric;
  v_degraded numeric := coalesce((p_config ->> 'degraded_connection_ratio')::numeric, 0.8);
  v_down numeric := coalesce((p_config ->> 'down_connection_ratio')::numeric, 0.95);
begin
  select count(*) into v_used from pg_catalog.pg_stat_activity where backend_type = 'client backend';
  v_ratio := round(v_used::numeric / greatest(v_max, 1), 3);
  return jsonb_build_object(
    'status', case when v_ratio >= v_down then 'down' when v_ratio >= v_degraded then 'degraded' else 'healthy' end,
    'reason', case when v_ratio >= v_degraded then format('%s of %s connections in use', v_used, v_max) else 'ok' end,
    'connections', v_used, 'max_connections', v_max, 'connection_ratio', v_ratio,
    'server_version', current_setting('server_version'));
end
$$;
revoke all on function vigil_private.database_health(jsonb) from public;

-- Requests this schema sent through pg_net, to see their outcome in net._http_response.
create table if not exists vigil_private.dispatches (
  request_id bigint primary key,
  function_name text not null,
  created_at timestamptz not null default now()
);
create index if not exists dispatches_created_at_idx on vigil_private.dispatches (created_at);
alter table vigil_private.dispatches enable row level security;
revoke all on table vigil_private.dispatches from public, anon, authenticated, service_role;

-- target 'scheduler': pg_cron alive, Vigil's jobs active and not failing, probe runs arriving.
-- config: failed_runs_window_minutes (default 15).
create or replace function vigil_private.scheduler_health(p_config jsonb default '{}'::jsonb)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_launcher boolean;
  v_inactive text[];
  v_failed integer;
  v_last_error text;
  v_window interval := make_interval(mins => coalesce((p_config ->> 'failed_runs_window_minutes')::integer, 15));
  v_stale interval := make_interval(mins => vigil_private.setting_int('probe_run_stale_minutes', 5));
  v_last_run timestamptz;
  v_http_failures integer := 0;
  v_problems text[] := '{}'::text[];
  v_status text := 'healthy';
begin
  -- backend_type is hidden from non-superusers for other roles' processes; application_name is not
  select exists (select 1 from pg_catalog.pg_stat_activity
                 where backend_type = 'pg_cron launcher' or application_name = 'pg_cron scheduler') into v_launcher;
  select array_agg(jobname order by jobname) into v_inactive from cron.job where jobname like 'vigil-%' and not active;
  select count(*), (array_agg(d.return_message order by d.start_time desc))[1]
    into v_failed, v_last_error
  from cron.job_run_details d join cron.job j on j.jobid = d.jobid
  where j.jobname like 'vigil-%' and d.status = 'failed' and d.start_time > now() - v_window;
  select max(started_at) into v_last_run from vigil_private.probe_runs where trigger = 'cron';
  if to_regclass('net._http_response') is not null then
    execute $q$
      select count(*) from vigil_private.dispatches x join net._http_response r on r.id = x.request_id
      where x.created_at > now() - $1 and (r.status_code >= 400 or r.error_msg is not null)$q$
      into v_http_failures using v_window;
  end if;

  if not v_launcher then
    v_status := 'down';
    v_problems := v_problems || 'pg_cron launcher is not running'::text;
  end if;
  if v_last_run is null then
    v_status := case when v_status = 'down' then 'down' else 'degraded' end;
    v_problems := v_problems || 'no scheduled probe run has arrived yet (Vault entries vigil_project_url / vigil_secret_key?)'::text;
  elsif v_last_run < now() - v_stale then
    v_status := 'down';
    v_problems := v_problems || format('last scheduled probe run started %s ago', date_trunc('second', now() - v_last_run))::text;
  end if;
  if coalesce(cardinality(v_inactive), 0) > 0 then
    v_status := case when v_status = 'down' then 'down' else 'degraded' end;
    v_problems := v_problems || format('jobs inactive: %s', array_to_string(v_inactive, ', '))::text;
  end if;
  if v_failed > 0 then
    v_status := case when v_status = 'down' then 'down' else 'degraded' end;
    v_problems := v_problems || format('%s failed job runs in the last %s: %s', v_failed, v_window, left(v_last_error, 300))::text;
  end if;
  if v_http_failures > 0 then
    v_status := case when v_status = 'down' then 'down' else 'degraded' end;
    v_problems := v_problems || format('%s dispatch requests failed in the last %s', v_http_failures, v_window)::text;
  end if;
  return jsonb_build_object(
    'status', v_status,
    'reason', coalesce(array_to_string(v_problems, '; '), 'ok'),
    'cron_launcher', v_launcher,
    'failed_job_runs', v_failed,
    'last_scheduled_run_at', v_last_run,
    'dispatch_http_failures', v_http_failures);
end
$$;
revoke all on function vigil_private.scheduler_health(jsonb) from public;
