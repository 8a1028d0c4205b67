-- Retention beyond partitions, and the pg_cron schedule for all maintenance.
create extension if not exists pg_cron with schema pg_catalog;

-- Resolved alerts older than the retention window go; open alerts are never deleted.
create or replace function vigil_private.purge_resolved_alerts(today date default (now() at time zone 'UTC')::date)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  n bigint;
begin
  delete from public.alert_events
  where status = 'resolved'
    and resolved_at < ((today - vigil_private.setting_int('retention_days', 30))::timestamp at time zone 'UTC');
  get diagnostics n = row_count;
  return n;
end
$$;
revoke all on function vigil_private.purge_resolved_alerts(date) from public;

create or replace function vigil_private.run_maintenance()
returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  return vigil_private.maintain_partitions()
    || jsonb_build_object('purged_alerts', vigil_private.purge_resolved_alerts());
end
$$;
revoke all on function vigil_private.run_maintenance() from public;

-- cron.schedule replaces a job of the same name, so re-running this migration is harmless.
-- Hourly rather than daily: idempotent and cheap, and a missed run costs nothing.
select cron.schedule('vigil-maintenance', '7 * * * *', $$select vigil_private.run_maintenance()$$);
-- pg_cron never purges its own history.
select cron.schedule('vigil-purge-cron-history', '23 3 * * *',
  $$delete from cron.job_run_details where end_time < now() - interval '7 days'$$);
