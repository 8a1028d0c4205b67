-- The one set-based statement behind each ingest-events request: the columns arrive as arrays
-- (the edge function writes the array literals itself and sends them as text: far cheaper than
-- having the driver serialise eight arrays element by element), are unnested and inserted, and
-- (id, created_at) pairs already stored are skipped (idempotent retries). Returns how many rows
-- were new. (A batch with duplicates runs a second, ON CONFLICT insert inside the same call.)
--
-- Rollup freshness: when anything was new, every hour the batch touches is marked dirty for the
-- rollup refresh; when everything was a duplicate, nothing is marked. (Marking exactly the hours
-- that got new rows needs RETURNING, which costs ~10% of the statement; a batch whose new rows
-- are in some of its hours and duplicates in others at worst has one hour rebuilt once more, and
-- a rebuild is a full recount, so answers stay exact either way.)
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
  -- Usually nothing in a batch is stored yet: a plain insert (unique violations are detected while
  -- the rows go into the primary key) is cheaper than ON CONFLICT, which probes the key for every
  -- row first and logs a confirmation per row. A retried batch, or one racing an identical
  -- concurrent request (its insert waits for the other to commit, then violates the key), takes
  -- the ON CONFLICT path: the failed attempt is undone to the block's savepoint.
  begin
    insert into public.document_processing_events
      (id, document_id, user_id, event_type, duration_ms, error_message, stage, created_at)
    select t.id, t.document_id, t.user_id, t.event_type, t.duration_ms, t.error_message, t.stage, t.created_at
    from unnest(ids, document_ids, user_ids, event_types, durations, error_messages, stages, created_ats)
      as t(id, document_id, user_id, event_type, duration_ms, error_message, stage, created_at);
    get diagnostics n = row_count;
  exception when unique_violation then
    insert into public.document_processing_events
      (id, document_id, user_id, event_type, duration_ms, error_message, stage, created_at)
    select t.id, t.document_id, t.user_id, t.event_type, t.duration_ms, t.error_message, t.stage, t.created_at
    from unnest(ids, document_ids, user_ids, event_types, durations, error_messages, stages, created_ats)
      as t(id, document_id, user_id, event_type, duration_ms, error_message, stage, created_at)
    on conflict (id, created_at) do nothing;
    get diagnostics n = row_count;
  end;
  if n > 0 then
    insert into vigil_private.processing_rollup_dirty (hour)
    select distinct pg_catalog.date_trunc('hour', c.created_at, 'UTC') from unnest(created_ats) as c(created_at);
  end if;
  return n;
end
$$;

revoke all on function vigil_private.ingest_processing_events(uuid[], uuid[], uuid[], text[], integer[], text[], text[], timestamptz[])
  from public, anon, authenticated;
grant execute on function vigil_private.ingest_processing_events(uuid[], uuid[], uuid[], text[], integer[], text[], text[], timestamptz[])
  to service_role;
