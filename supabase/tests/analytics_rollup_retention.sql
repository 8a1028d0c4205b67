-- Rollups outlive raw rows: partition retention drops raw days but keeps their rollups; rollups
-- go after rollup_retention_days; a refresh never rebuilds (wipes) hours whose raw rows are gone.
begin;
select plan(6);

select is(vigil_private.setting_int('rollup_retention_days', 0), 400, 'rollup_retention_days defaults to 400');
select throws_ok($$update vigil_private.settings set value = '"x"' where key = 'rollup_retention_days'$$, '23514', null,
                 'rollup_retention_days must be a whole number of days');

insert into vigil_private.processing_rollup_hourly (hour, event_type, stage, events, with_duration) values
  (date_trunc('hour', now() - interval '100 days'), 'completed', '', 5, 0),
  (date_trunc('hour', now() - interval '500 days'), 'completed', '', 7, 0);

select vigil_private.maintain_partitions();
select is((select sum(events)::int from vigil_private.processing_rollup_hourly where hour = date_trunc('hour', now() - interval '100 days')), 5,
          'partition maintenance leaves rollups older than the raw retention alone');

-- A dirty mark for an hour older than raw retention is dropped without rebuilding (raw rows gone).
insert into vigil_private.processing_rollup_dirty (hour) values (date_trunc('hour', now() - interval '100 days'));
select vigil_private.refresh_processing_rollups();
select is((select sum(events)::int from vigil_private.processing_rollup_hourly where hour = date_trunc('hour', now() - interval '100 days')), 5,
          'a refresh does not wipe rollups of hours beyond raw retention');

select ok(vigil_private.purge_processing_rollups() >= 1, 'purge removes rollups older than rollup_retention_days');
select is((select count(*)::int from vigil_private.processing_rollup_hourly where hour < now() - interval '401 days'), 0,
          'nothing older than rollup_retention_days is left');

select * from finish();
rollback;
