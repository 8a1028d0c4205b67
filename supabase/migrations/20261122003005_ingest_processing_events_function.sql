-- The one set-based statement behind each ingest-events request: the columns arrive as arrays,
-- are unnested, inserted, and (id, created_at) pairs already stored are skipped (idempotent
-- retries). The hours that received new rows are marked dirty for the rollup refresh; a duplicate
-- that was not inserted marks nothing. Returns how many rows were new.
-- plpgsql so the plan is cached per connection.
create or replace function vigil_private.ingest_processing_events(
  ids uuid[], document_ids uuid[], user_ids uuid[], event_types text[], durations integer[],
  error_messages text[], stages text[], created_ats timestamptz[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  n integer;
begin
  with input as (
    select * from unnest(ids, document_ids, user_ids, event_types, durations, error_messages, stages, created_ats)
      as t(id, document_id, user_id, event_type, duration_ms, error_message, stage, created_at)
  ), inserted as (
    insert into public.document_processing_events as e
      (id, document_id, user_id, event_type, duration_ms, error_message, stage, created_at)
    select i.id, i.document_id, i.user_id, i.event_type, i.duration_ms, i.error_message, i.stage, i.created_at
    from input i
    on conflict (id, created_at) do nothing
    returning e.created_at
  ), dirty as (
    insert into vigil_private.processing_rollup_dirty (hour)
    select distinct pg_catalog.date_trunc('hour', ins.created_at, 'UTC') from inserted ins
  )
  select count(*)::integer into n from inserted;
  return n;
end
$$;

revoke all on function vigil_private.ingest_processing_events(uuid[], uuid[], uuid[], text[], integer[], text[], text[], timestamptz[])
  from public, anon, authenticated;
grant execute on function vigil_private.ingest_processing_events(uuid[], uuid[], uuid[], text[], integer[], text[], text[], timestamptz[])
  to service_role;
