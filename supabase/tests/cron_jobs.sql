-- The maintenance jobs are scheduled by the migrations, and their commands work.
begin;
select plan(7);

select is((select schedule from cron.job where jobname = 'vigil-maintenance'), '7 * * * *',
  'partition maintenance and retention run hourly');
select matches((select command from cron.job where jobname = 'vigil-maintenance'), 'vigil_private\.run_maintenance\(\)',
  'the maintenance job calls vigil_private.run_maintenance()');
select is((select schedule from cron.job where jobname = 'vigil-purge-cron-history'), '23 3 * * *',
  'cron history purge runs daily');
select is((select count(*)::int from cron.job where jobname like 'vigil-%' and username <> 'postgres'), 0,
  'jobs run as postgres, not as a superuser');

-- The purge command really removes history older than 7 days and keeps the rest.
insert into cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
values
  (0, -1001, 0, 'postgres', 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '8 days', now() - interval '8 days'),
  (0, -1002, 0, 'postgres', 'postgres', 'select 1', 'succeeded', '1 row', now() - interval '1 day', now() - interval '1 day');
do $$ begin execute (select command from cron.job where jobname = 'vigil-purge-cron-history'); end $$;
select is((select count(*)::int from cron.job_run_details where runid = -1001), 0, 'history older than 7 days is purged');
select is((select count(*)::int from cron.job_run_details where runid = -1002), 1, 'recent history is kept');

select ok((vigil_private.run_maintenance()) ?& array['created', 'dropped', 'purged_alerts'],
  'run_maintenance reports partitions created/dropped and alerts purged');

select * from finish();
rollback;
