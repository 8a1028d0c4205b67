-- Processing analytics for the dashboard: volume by event_type, success rate, duration
-- percentiles, failures by stage and the most frequent error messages, over any window
-- [p_from, p_to) in buckets of p_bucket (null = one bucket for the whole window).
--
-- Every function runs as the caller (SECURITY INVOKER), so RLS on the raw events and the rollups
-- decides what is read; on top of that, signed-in users who are not admins get 42501 instead of a
-- silently partial answer. Callable by authenticated (admins) and service_role.
--
-- Sources (p_source): 'raw' reads raw rows only (exact, percentiles by percentile_disc);
-- 'rollup' reads whole hours from the hourly rollups, and raw rows for the partial hours at the
-- window's edges and for hours whose rollups are stale (marked dirty and not yet rebuilt), so the
-- counts are exact too; percentiles then come from the merged fixed histogram (interpolated in the
-- bucket holding the rank, clamped to the observed min/max). 'auto' (the default) uses rollups for
-- windows of at least 6 hours with buckets of whole hours, raw rows otherwise.
-- Buckets start at p_from truncated to the hour (UTC), every p_bucket; empty buckets are omitted.
--
-- Per-row expressions spell the histogram bucket as width_bucket(duration_ms, latency_bucket_bounds())
-- rather than calling vigil_private.latency_bucket(): a function with SET search_path is never
-- inlined, so it would cost a function call (and a GUC save/restore) per raw row; the bounds,
-- immutable with no argument, are folded to a constant when the query is planned.

-- Raises 42501 unless the caller may read analytics: admins (JWT app_metadata.role) when signed in
-- as authenticated; database roles with direct table access (service_role, owners) pass.
create or replace function vigil_private.assert_analytics_caller()
returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if current_user in ('authenticated', 'anon')
     and coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role', '') <> 'admin' then
    raise exception 'processing analytics are for admins' using errcode = '42501';
  end if;
end
$$;

-- Whether to read rollups for this request; raises 22023 on an invalid window, bucket or source.
create or replace function vigil_private.analytics_use_rollups(p_from timestamptz, p_to timestamptz, p_bucket interval,
                                                              p_source text)
returns boolean
language plpgsql stable
set search_path = ''
as $$
declare
  whole_hours boolean;
begin
  if p_from is null or p_to is null or p_to <= p_from then
    raise exception 'the window needs p_from < p_to' using errcode = '22023';
  end if;
  if p_bucket is not null then
    if p_bucket <= interval '0' or extract(month from p_bucket) <> 0 or extract(year from p_bucket) <> 0 then
      raise exception 'p_bucket must be a positive interval of days, hours, minutes or seconds' using errcode = '22023';
    end if;
    if extract(epoch from p_to - p_from) / extract(epoch from p_bucket) > 10000 then
      raise exception 'at most 10000 buckets per window' using errcode = '22023';
    end if;
  end if;
  whole_hours := p_bucket is null or (extract(epoch from p_bucket) % 3600 = 0);
  case coalesce(p_source, 'auto')
    when 'raw' then return false;
    when 'rollup' then
      if not whole_hours then
        raise exception 'rollups need buckets of whole hours' using errcode = '22023';
      end if;
      return true;
    when 'auto' then return whole_hours and p_to - p_from >= interval '6 hours';
    else raise exception 'p_source must be auto, rollup or raw' using errcode = '22023';
  end case;
end
$$;

-- For rollup reads: [lo_h, hi_h) is the range of whole hours inside the window, read from rollups
-- except the dirty hours (marked by ingest, not yet rebuilt), which are read from raw rows like
-- the partial hours at the edges, [p_from, lo_h) and [hi_h, p_to). Every raw read is a plain
-- created_at range (partition pruning, index range scan), so it costs what the rows in it cost.
-- When the trailing partial hour can be answered exactly by its rollup (see below), hi_h is the
-- end of that hour (> p_to) and [hi_h, p_to) is empty.
create or replace function vigil_private.analytics_rollup_plan(p_from timestamptz, p_to timestamptz,
                                                              out lo_h timestamptz, out hi_h timestamptz,
                                                              out dirty timestamptz[])
language plpgsql stable
set search_path = ''
as $$
begin
  lo_h := pg_catalog.date_trunc('hour', p_from + interval '1 hour' - interval '1 microsecond', 'UTC');
  hi_h := pg_catalog.date_trunc('hour', p_to, 'UTC');
  if hi_h <= lo_h then
    -- No whole hour inside the window: all of it is read raw (as the "tail" [hi_h, p_to)).
    lo_h := p_from;
    hi_h := p_from;
    dirty := '{}';
    return;
  end if;
  select coalesce(array_agg(distinct d.hour), '{}') into dirty
  from vigil_private.processing_rollup_dirty d
  where d.hour >= lo_h and d.hour <= hi_h;
  -- The trailing partial hour [hi_h, p_to) (for a window ending now: the current hour) is answered
  -- by its rollup when that is exact for it: the hour is not dirty (its rollup holds every row in
  -- it) and no row of the hour lies at or after p_to (an index probe; events may be dated up to 5
  -- minutes ahead). It then counts as a whole hour, and the raw tail [hi_h, p_to) is empty.
  if hi_h < p_to and not (hi_h = any (dirty))
     and not exists (select 1 from public.document_processing_events e
                     where e.created_at >= p_to and e.created_at < hi_h + interval '1 hour') then
    hi_h := hi_h + interval '1 hour';
  end if;
  dirty := array(select h from pg_catalog.unnest(dirty) as h where h < hi_h);
end
$$;

-- Counts per bucket, event_type and stage ('' = no stage).
create or replace function vigil_private.processing_counts_source(p_from timestamptz, p_to timestamptz,
                                                                 p_bucket interval, p_rollups boolean)
returns table (bucket_start timestamptz, event_type text, stage text, events bigint, with_duration bigint,
               duration_sum bigint, duration_min integer, duration_max integer)
language plpgsql stable
set search_path = ''
as $$
declare
  origin timestamptz := pg_catalog.date_trunc('hour', p_from, 'UTC');
  plan record;
begin
  if not p_rollups then
    return query
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
             e.event_type, coalesce(e.stage, ''), count(*), count(e.duration_ms), coalesce(sum(e.duration_ms), 0)::bigint,
             min(e.duration_ms), max(e.duration_ms)
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < p_to
      group by 1, 2, 3;
    return;
  end if;
  plan := vigil_private.analytics_rollup_plan(p_from, p_to);
  if plan.lo_h = p_from and plan.hi_h = p_to and pg_catalog.cardinality(plan.dirty) = 0 then
    -- Whole hours, all rolled up: nothing to read from raw rows.
    return query
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, r.hour, origin) end,
             r.event_type, r.stage, sum(r.events)::bigint, sum(r.with_duration)::bigint, sum(r.duration_sum)::bigint,
             min(r.duration_min), max(r.duration_max)
      from vigil_private.processing_rollup_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h
      group by 1, 2, 3;
    return;
  end if;
  return query
    select x.b, x.event_type, x.stage, sum(x.events)::bigint, sum(x.with_duration)::bigint, sum(x.duration_sum)::bigint,
           min(x.duration_min), max(x.duration_max)
    from (
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, r.hour, origin) end as b,
             r.event_type, r.stage, r.events, r.with_duration, r.duration_sum, r.duration_min, r.duration_max
      from vigil_private.processing_rollup_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h and r.hour <> all (plan.dirty)
      union all
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
             e.event_type, coalesce(e.stage, ''), count(*), count(e.duration_ms), coalesce(sum(e.duration_ms), 0)::bigint,
             min(e.duration_ms), max(e.duration_ms)
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < plan.lo_h
      group by 1, 2, 3
      union all
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
             e.event_type, coalesce(e.stage, ''), count(*), count(e.duration_ms), coalesce(sum(e.duration_ms), 0)::bigint,
             min(e.duration_ms), max(e.duration_ms)
      from public.document_processing_events e
      where e.created_at >= plan.hi_h and e.created_at < p_to
      group by 1, 2, 3
      union all
      select y.*
      from unnest(plan.dirty) as d(h)
      cross join lateral (
        select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
               e.event_type, coalesce(e.stage, ''), count(*), count(e.duration_ms), coalesce(sum(e.duration_ms), 0)::bigint,
               min(e.duration_ms), max(e.duration_ms)
        from public.document_processing_events e
        where e.created_at >= d.h and e.created_at < d.h + interval '1 hour'
        group by 1, 2, 3
      ) y
    ) x
    group by 1, 2, 3;
end
$$;

-- The latency histogram per bucket for one event_type: one row per non-empty histogram bucket
-- (vigil_private.latency_bucket) with the count, sum, min and max of its durations.
create or replace function vigil_private.processing_latency_source(p_from timestamptz, p_to timestamptz,
                                                                  p_bucket interval, p_event_type text, p_rollups boolean)
returns table (bucket_start timestamptz, bucket smallint, events bigint, sum_ms bigint, min_ms integer, max_ms integer)
language plpgsql stable
set search_path = ''
as $$
declare
  origin timestamptz := pg_catalog.date_trunc('hour', p_from, 'UTC');
  plan record;
begin
  if not p_rollups then
    return query
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
             pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint, count(*), sum(e.duration_ms)::bigint, min(e.duration_ms), max(e.duration_ms)
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < p_to and e.event_type = p_event_type and e.duration_ms is not null
      group by 1, 2;
    return;
  end if;
  plan := vigil_private.analytics_rollup_plan(p_from, p_to);
  if plan.lo_h = p_from and plan.hi_h = p_to and pg_catalog.cardinality(plan.dirty) = 0 then
    return query
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, r.hour, origin) end, r.bucket,
             sum(r.events)::bigint, sum(r.sum_ms)::bigint, min(r.min_ms), max(r.max_ms)
      from vigil_private.processing_latency_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h and r.event_type = p_event_type
      group by 1, 2;
    return;
  end if;
  return query
    select x.b, x.bucket, sum(x.events)::bigint, sum(x.sum_ms)::bigint, min(x.min_ms), max(x.max_ms)
    from (
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, r.hour, origin) end as b,
             r.bucket, r.events, r.sum_ms, r.min_ms, r.max_ms
      from vigil_private.processing_latency_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h and r.hour <> all (plan.dirty) and r.event_type = p_event_type
      union all
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
             pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint, count(*), sum(e.duration_ms)::bigint, min(e.duration_ms), max(e.duration_ms)
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < plan.lo_h and e.event_type = p_event_type and e.duration_ms is not null
      group by 1, 2
      union all
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
             pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint, count(*), sum(e.duration_ms)::bigint, min(e.duration_ms), max(e.duration_ms)
      from public.document_processing_events e
      where e.created_at >= plan.hi_h and e.created_at < p_to and e.event_type = p_event_type and e.duration_ms is not null
      group by 1, 2
      union all
      select y.*
      from unnest(plan.dirty) as d(h)
      cross join lateral (
        select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, e.created_at, origin) end,
               pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint, count(*), sum(e.duration_ms)::bigint, min(e.duration_ms), max(e.duration_ms)
        from public.document_processing_events e
        where e.created_at >= d.h and e.created_at < d.h + interval '1 hour' and e.event_type = p_event_type
          and e.duration_ms is not null
        group by 1, 2
      ) y
    ) x
    group by 1, 2;
end
$$;

-- Failure messages (first 200 characters) per stage over the whole window.
create or replace function vigil_private.processing_errors_source(p_from timestamptz, p_to timestamptz, p_rollups boolean)
returns table (stage text, error_message text, events bigint, last_seen timestamptz)
language plpgsql stable
set search_path = ''
as $$
declare
  plan record;
begin
  if not p_rollups then
    return query
      select coalesce(e.stage, ''), left(e.error_message, 200), count(*), max(e.created_at)
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < p_to and e.event_type = 'failed' and e.error_message is not null
      group by 1, 2;
    return;
  end if;
  plan := vigil_private.analytics_rollup_plan(p_from, p_to);
  if plan.lo_h = p_from and plan.hi_h = p_to and pg_catalog.cardinality(plan.dirty) = 0 then
    return query
      select r.stage, r.error_message, sum(r.events)::bigint, max(r.last_seen)
      from vigil_private.processing_errors_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h
      group by 1, 2;
    return;
  end if;
  return query
    select x.stage, x.error_message, sum(x.events)::bigint, max(x.last_seen)
    from (
      select r.stage, r.error_message, r.events, r.last_seen
      from vigil_private.processing_errors_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h and r.hour <> all (plan.dirty)
      union all
      select coalesce(e.stage, ''), left(e.error_message, 200), count(*), max(e.created_at)
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < plan.lo_h and e.event_type = 'failed' and e.error_message is not null
      group by 1, 2
      union all
      select coalesce(e.stage, ''), left(e.error_message, 200), count(*), max(e.created_at)
      from public.document_processing_events e
      where e.created_at >= plan.hi_h and e.created_at < p_to and e.event_type = 'failed' and e.error_message is not null
      group by 1, 2
      union all
      select y.*
      from unnest(plan.dirty) as d(h)
      cross join lateral (
        select coalesce(e.stage, ''), left(e.error_message, 200), count(*), max(e.created_at)
        from public.document_processing_events e
        where e.created_at >= d.h and e.created_at < d.h + interval '1 hour' and e.event_type = 'failed'
          and e.error_message is not null
        group by 1, 2
      ) y
    ) x
    group by 1, 2;
end
$$;

-- Duration statistics per bucket from a merged fixed-bucket histogram, given as parallel arrays
-- (one element per non-empty histogram bucket per time bucket: time bucket start, histogram
-- bucket, count, sum, min and max). Shared by processing_duration_percentiles and
-- processing_analytics so both estimate identically.
create or replace function vigil_private.histogram_percentiles(starts timestamptz[], buckets smallint[], counts bigint[],
                                                              sums bigint[], mins integer[], maxs integer[])
returns table (bucket_start timestamptz, events bigint, avg_ms numeric, min_ms integer, max_ms integer,
               p50_ms numeric, p95_ms numeric, p99_ms numeric, exact boolean)
language plpgsql immutable
set search_path = ''
as $$
begin
  -- The rank-th value (nearest rank, as percentile_disc) lies in the first histogram bucket whose
  -- running count reaches the rank, i.e. the one bucket with upto - n < rank <= upto (counts are
  -- positive); estimated by spreading that bucket's n values evenly over the [min, max] observed
  -- in it (exact when they are all equal, or for the bucket's extremes). One window pass and one
  -- aggregate.
  return query
  with hist as (
    select l.b, l.n, l.sum_ms, l.bmin, l.bmax,
           sum(l.n) over (partition by l.b order by l.bucket) as upto,
           sum(l.n) over (partition by l.b) as total
    from unnest(starts, buckets, counts, sums, mins, maxs) as l(b, bucket, n, sum_ms, bmin, bmax)
  ), ranked as (
    select h.*, ceil(0.5 * h.total) as r50, ceil(0.95 * h.total) as r95, ceil(0.99 * h.total) as r99
    from hist h
  )
  select r.b, sum(r.n)::bigint, round(sum(r.sum_ms)::numeric / sum(r.n), 2), min(r.bmin), max(r.bmax),
         round(max(r.bmin + (r.bmax - r.bmin)::numeric * (r.r50 - (r.upto - r.n) - 1) / greatest(r.n - 1, 1))
                 filter (where r.upto >= r.r50 and r.upto - r.n < r.r50), 1),
         round(max(r.bmin + (r.bmax - r.bmin)::numeric * (r.r95 - (r.upto - r.n) - 1) / greatest(r.n - 1, 1))
                 filter (where r.upto >= r.r95 and r.upto - r.n < r.r95), 1),
         round(max(r.bmin + (r.bmax - r.bmin)::numeric * (r.r99 - (r.upto - r.n) - 1) / greatest(r.n - 1, 1))
                 filter (where r.upto >= r.r99 and r.upto - r.n < r.r99), 1),
         false
  from ranked r
  group by r.b
  order by 1;
end
$$;

-- Events per bucket and event_type.
create or replace function public.processing_volume(p_from timestamptz, p_to timestamptz,
                                                    p_bucket interval default interval '1 hour',
                                                    p_source text default 'auto')
returns table (bucket_start timestamptz, event_type text, events bigint)
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  use_rollups boolean;
begin
  perform vigil_private.assert_analytics_caller();
  use_rollups := vigil_private.analytics_use_rollups(p_from, p_to, p_bucket, p_source);
  return query
    select s.bucket_start, s.event_type, sum(s.events)::bigint
    from vigil_private.processing_counts_source(p_from, p_to, p_bucket, use_rollups) s
    group by 1, 2
    order by 1, 2;
end
$$;

-- Completed and failed events per bucket; success_rate = completed / (completed + failed).
create or replace function public.processing_success_rate(p_from timestamptz, p_to timestamptz,
                                                          p_bucket interval default interval '1 hour',
                                                          p_source text default 'auto')
returns table (bucket_start timestamptz, completed bigint, failed bigint, success_rate numeric)
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  use_rollups boolean;
begin
  perform vigil_private.assert_analytics_caller();
  use_rollups := vigil_private.analytics_use_rollups(p_from, p_to, p_bucket, p_source);
  return query
    select x.b, x.c, x.f, round(x.c::numeric / nullif(x.c + x.f, 0), 4)
    from (
      select s.bucket_start as b,
             coalesce(sum(s.events) filter (where s.event_type = 'completed'), 0)::bigint as c,
             coalesce(sum(s.events) filter (where s.event_type = 'failed'), 0)::bigint as f
      from vigil_private.processing_counts_source(p_from, p_to, p_bucket, use_rollups) s
      where s.event_type in ('completed', 'failed')
      group by 1
    ) x
    order by 1;
end
$$;

-- Duration statistics per bucket for one event_type (events = those with a duration). Exact
-- (percentile_disc over raw rows) when reading raw rows; histogram estimates from rollups.
create or replace function public.processing_duration_percentiles(p_from timestamptz, p_to timestamptz,
                                                                  p_bucket interval default interval '1 hour',
                                                                  p_event_type text default 'completed',
                                                                  p_source text default 'auto')
returns table (bucket_start timestamptz, events bigint, avg_ms numeric, min_ms integer, max_ms integer,
               p50_ms numeric, p95_ms numeric, p99_ms numeric, exact boolean)
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  use_rollups boolean;
begin
  perform vigil_private.assert_analytics_caller();
  use_rollups := vigil_private.analytics_use_rollups(p_from, p_to, p_bucket, p_source);
  if p_event_type is null or p_event_type not in ('upload_started', 'processing_started', 'completed', 'failed') then
    raise exception 'unknown event_type %', p_event_type using errcode = '22023';
  end if;

  if not use_rollups then
    return query
      select case when p_bucket is null then p_from
                  else pg_catalog.date_bin(p_bucket, e.created_at, pg_catalog.date_trunc('hour', p_from, 'UTC')) end,
             count(*), round(avg(e.duration_ms), 2), min(e.duration_ms), max(e.duration_ms),
             (percentile_disc(0.5) within group (order by e.duration_ms))::numeric,
             (percentile_disc(0.95) within group (order by e.duration_ms))::numeric,
             (percentile_disc(0.99) within group (order by e.duration_ms))::numeric,
             true
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < p_to and e.event_type = p_event_type
        and e.duration_ms is not null
      group by 1
      order by 1;
    return;
  end if;

  return query
    select hp.*
    from (
      select array_agg(l.bucket_start) as b, array_agg(l.bucket) as bucket, array_agg(l.events) as n,
             array_agg(l.sum_ms) as sum_ms, array_agg(l.min_ms) as min_ms, array_agg(l.max_ms) as max_ms
      from vigil_private.processing_latency_source(p_from, p_to, p_bucket, p_event_type, true) l
    ) a
    cross join lateral vigil_private.histogram_percentiles(a.b, a.bucket, a.n, a.sum_ms, a.min_ms, a.max_ms) hp
    order by 1;
end
$$;

-- Failed events per bucket and stage (null = no stage).
create or replace function public.processing_failures_by_stage(p_from timestamptz, p_to timestamptz,
                                                               p_bucket interval default interval '1 hour',
                                                               p_source text default 'auto')
returns table (bucket_start timestamptz, stage text, failures bigint)
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  use_rollups boolean;
begin
  perform vigil_private.assert_analytics_caller();
  use_rollups := vigil_private.analytics_use_rollups(p_from, p_to, p_bucket, p_source);
  return query
    select s.bucket_start, nullif(s.stage, ''), sum(s.events)::bigint
    from vigil_private.processing_counts_source(p_from, p_to, p_bucket, use_rollups) s
    where s.event_type = 'failed'
    group by 1, 2
    order by 1, 3 desc, 2;
end
$$;

-- The most frequent failure messages (grouped on their first 200 characters) and their stage.
create or replace function public.processing_top_errors(p_from timestamptz, p_to timestamptz,
                                                        p_limit integer default 10,
                                                        p_source text default 'auto')
returns table (error_message text, stage text, occurrences bigint, last_seen timestamptz)
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  use_rollups boolean;
begin
  perform vigil_private.assert_analytics_caller();
  use_rollups := vigil_private.analytics_use_rollups(p_from, p_to, null, p_source);
  return query
    select s.error_message, nullif(s.stage, ''), sum(s.events)::bigint, max(s.last_seen)
    from vigil_private.processing_errors_source(p_from, p_to, use_rollups) s
    group by s.error_message, s.stage
    order by 3 desc, 1, 2
    limit greatest(1, least(coalesce(p_limit, 10), 100));
end
$$;

-- Everything above in one call (one round trip for the dashboard), as JSON: the same answers as
-- processing_volume, processing_success_rate, processing_failures_by_stage,
-- processing_duration_percentiles('completed') and processing_top_errors(10) for the same arguments.
--
-- From rollups it is one statement that reads every raw row it needs once: the partial hours at
-- the window's edges and the dirty hours are read into one CTE (`raw`) shared by the counts, the
-- latency histogram and the error messages, instead of once per source function. From raw rows
-- the counts are read once for volume, success rate and failures by stage.
create or replace function public.processing_analytics(p_from timestamptz, p_to timestamptz,
                                                       p_bucket interval default interval '1 hour',
                                                       p_source text default 'auto')
returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  use_rollups boolean;
  result jsonb;
begin
  perform vigil_private.assert_analytics_caller();
  use_rollups := vigil_private.analytics_use_rollups(p_from, p_to, p_bucket, p_source);
  if not use_rollups then
    with c as materialized (
      select * from vigil_private.processing_counts_source(p_from, p_to, p_bucket, false)
    )
    select jsonb_build_object(
      'from', p_from, 'to', p_to, 'bucket', p_bucket, 'source', 'raw',
      'volume', vigil_private.analytics_volume_json(array_agg(c.bucket_start), array_agg(c.event_type), array_agg(c.stage), array_agg(c.events)),
      'success_rate', vigil_private.analytics_success_json(array_agg(c.bucket_start), array_agg(c.event_type), array_agg(c.stage), array_agg(c.events)),
      'failures_by_stage', vigil_private.analytics_failures_json(array_agg(c.bucket_start), array_agg(c.event_type), array_agg(c.stage), array_agg(c.events)),
      'durations', coalesce((select jsonb_agg(to_jsonb(v))
                             from public.processing_duration_percentiles(p_from, p_to, p_bucket, 'completed', 'raw') v), '[]'),
      'top_errors', coalesce((select jsonb_agg(to_jsonb(v)) from public.processing_top_errors(p_from, p_to, 10, 'raw') v), '[]')
    ) into result
    from c;
    return result;
  end if;
  return vigil_private.processing_analytics_rollup(p_from, p_to, p_bucket);
end
$$;

-- processing_analytics from rollups (the caller checks access and arguments). JIT is off here: the
-- planner's estimate for the dirty-hour reads (a lateral range per hour, over every partition) can
-- pass jit_above_cost although the rows actually read are a few hours' worth, and compiling the
-- plan then costs ~150 ms on a query that runs in ~10 ms.
create or replace function vigil_private.processing_analytics_rollup(p_from timestamptz, p_to timestamptz, p_bucket interval)
returns jsonb
language plpgsql stable
set search_path = ''
set jit = off
as $$
declare
  origin timestamptz := pg_catalog.date_trunc('hour', p_from, 'UTC');
  plan record;
  first_b timestamptz;
  last_b timestamptz;
  result jsonb;
begin
  plan := vigil_private.analytics_rollup_plan(p_from, p_to);
  -- The bucket of the leading partial hour [p_from, lo_h) (inside the hour `origin`), and of the
  -- trailing part [hi_h, p_to) when it lies inside one hour (else null: per row).
  first_b := case when p_bucket is null then p_from else origin end;
  if p_bucket is null then
    last_b := p_from;
  elsif pg_catalog.date_trunc('hour', plan.hi_h, 'UTC') = pg_catalog.date_trunc('hour', p_to - interval '1 microsecond', 'UTC') then
    last_b := pg_catalog.date_bin(p_bucket, plan.hi_h, origin);
  end if;
  with raw as materialized (
    -- Raw rows the rollups cannot answer, read once and aggregated in one pass (the counts, the
    -- latency histogram of completed events and the error messages are all derived from this):
    -- [p_from, lo_h), [hi_h, p_to) and the dirty hours inside [lo_h, hi_h) (plain created_at
    -- ranges: partition pruning, index scans). Buckets are whole hours in rollup mode, so a range
    -- inside one hour lies in one bucket, computed once for the range instead of once per row.
    select x.b, x.event_type, coalesce(x.stage, '') as stage, x.lb, x.msg, count(*) as n,
           sum(x.duration_ms)::bigint as sum_ms, min(x.duration_ms) as min_ms, max(x.duration_ms) as max_ms,
           max(x.created_at) as last_seen
    from (
      select first_b as b, e.event_type, e.stage, e.duration_ms, e.created_at,
             case when e.event_type = 'completed'
                  then pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint end as lb,
             case when e.event_type = 'failed' then left(e.error_message, 200) end as msg
      from public.document_processing_events e
      where e.created_at >= p_from and e.created_at < plan.lo_h
      union all
      select coalesce(last_b, pg_catalog.date_bin(p_bucket, e.created_at, origin)), e.event_type, e.stage, e.duration_ms,
             e.created_at,
             case when e.event_type = 'completed'
                  then pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint end,
             case when e.event_type = 'failed' then left(e.error_message, 200) end
      from public.document_processing_events e
      where e.created_at >= plan.hi_h and e.created_at < p_to
      union all
      select y.*
      from pg_catalog.unnest(plan.dirty) as d(h)
      cross join lateral (
        select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, d.h, origin) end,
               e.event_type, e.stage, e.duration_ms, e.created_at,
               case when e.event_type = 'completed'
                    then pg_catalog.width_bucket(e.duration_ms, vigil_private.latency_bucket_bounds())::smallint end,
               case when e.event_type = 'failed' then left(e.error_message, 200) end
        from public.document_processing_events e
        where e.created_at >= d.h and e.created_at < d.h + interval '1 hour'
          -- constant in each (custom) plan: without dirty hours this branch is planned as empty
          and pg_catalog.cardinality(plan.dirty) > 0
      ) y
    ) x
    group by 1, 2, 3, 4, 5
  ), c as (
    select x.b as bucket_start, x.event_type, x.stage, sum(x.events)::bigint as events
    from (
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, r.hour, origin) end as b,
             r.event_type, r.stage, r.events
      from vigil_private.processing_rollup_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h and r.hour <> all (plan.dirty)
      union all
      select raw.b, raw.event_type, raw.stage, sum(raw.n)::bigint from raw group by 1, 2, 3
    ) x
    group by 1, 2, 3
  ), lat as (
    select x.b, x.bucket, sum(x.events)::bigint as events, sum(x.sum_ms)::bigint as sum_ms, min(x.min_ms) as min_ms,
           max(x.max_ms) as max_ms
    from (
      select case when p_bucket is null then p_from else pg_catalog.date_bin(p_bucket, r.hour, origin) end as b,
             r.bucket, r.events, r.sum_ms, r.min_ms, r.max_ms
      from vigil_private.processing_latency_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h and r.hour <> all (plan.dirty) and r.event_type = 'completed'
      union all
      select raw.b, raw.lb, sum(raw.n)::bigint, sum(raw.sum_ms)::bigint, min(raw.min_ms), max(raw.max_ms)
      from raw
      where raw.lb is not null
      group by 1, 2
    ) x
    group by 1, 2
  ), err as (
    select x.stage, x.error_message, sum(x.events)::bigint as events, max(x.last_seen) as last_seen
    from (
      select r.stage, r.error_message, r.events, r.last_seen
      from vigil_private.processing_errors_hourly r
      where r.hour >= plan.lo_h and r.hour < plan.hi_h and r.hour <> all (plan.dirty)
      union all
      select raw.stage, raw.msg, sum(raw.n)::bigint, max(raw.last_seen)
      from raw
      where raw.msg is not null
      group by 1, 2
    ) x
    group by 1, 2
  ), cc as (
    select array_agg(c.bucket_start) as b, array_agg(c.event_type) as t, array_agg(c.stage) as s, array_agg(c.events) as n
    from c
  )
  select jsonb_build_object(
    'from', p_from, 'to', p_to, 'bucket', p_bucket, 'source', 'rollup',
    'volume', vigil_private.analytics_volume_json(cc.b, cc.t, cc.s, cc.n),
    'success_rate', vigil_private.analytics_success_json(cc.b, cc.t, cc.s, cc.n),
    'failures_by_stage', vigil_private.analytics_failures_json(cc.b, cc.t, cc.s, cc.n),
    'durations', coalesce((
      select jsonb_agg(to_jsonb(hp) order by hp.bucket_start)
      from (select array_agg(lat.b) as b, array_agg(lat.bucket) as bucket, array_agg(lat.events) as n,
                   array_agg(lat.sum_ms) as sum_ms, array_agg(lat.min_ms) as min_ms, array_agg(lat.max_ms) as max_ms
            from lat) a
      cross join lateral vigil_private.histogram_percentiles(a.b, a.bucket, a.n, a.sum_ms, a.min_ms, a.max_ms) hp), '[]'),
    'top_errors', coalesce((
      select jsonb_agg(jsonb_build_object('error_message', v.error_message, 'stage', v.stage, 'occurrences', v.events,
                                          'last_seen', v.last_seen) order by v.events desc, v.error_message, v.stage)
      from (select err.error_message, nullif(err.stage, '') as stage, sum(err.events)::bigint as events, max(err.last_seen) as last_seen
            from err
            group by 1, 2
            order by 3 desc, 1, 2
            limit 10) v), '[]')
  ) into result
  from cc;
  return result;
end
$$;

-- The JSON parts of processing_analytics built from counts per (bucket, event_type, stage), given
-- as parallel arrays: the same rows, in the same order, as processing_volume,
-- processing_success_rate and processing_failures_by_stage return. plpgsql (not sql) so their
-- plans are cached per session instead of planned on every call; stable because timestamptz
-- values in JSON follow the session's TimeZone.
create or replace function vigil_private.analytics_volume_json(b timestamptz[], t text[], s text[], n bigint[])
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (select coalesce(jsonb_agg(jsonb_build_object('bucket_start', v.b, 'event_type', v.t, 'events', v.n) order by v.b, v.t), '[]')
  from (select c.b, c.t, sum(c.n)::bigint as n from unnest(b, t, s, n) as c(b, t, s, n) group by 1, 2) v);
end
$$;

create or replace function vigil_private.analytics_success_json(b timestamptz[], t text[], s text[], n bigint[])
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (select coalesce(jsonb_agg(jsonb_build_object('bucket_start', v.b, 'completed', v.ok, 'failed', v.ko,
                                                'success_rate', round(v.ok::numeric / nullif(v.ok + v.ko, 0), 4)) order by v.b), '[]')
  from (select c.b,
               coalesce(sum(c.n) filter (where c.t = 'completed'), 0)::bigint as ok,
               coalesce(sum(c.n) filter (where c.t = 'failed'), 0)::bigint as ko
        from unnest(b, t, s, n) as c(b, t, s, n)
        where c.t in ('completed', 'failed')
        group by 1) v);
end
$$;

create or replace function vigil_private.analytics_failures_json(b timestamptz[], t text[], s text[], n bigint[])
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (select coalesce(jsonb_agg(jsonb_build_object('bucket_start', v.b, 'stage', nullif(v.s, ''), 'failures', v.n)
                            order by v.b, v.n desc, v.s), '[]')
  from (select c.b, c.s, sum(c.n)::bigint as n from unnest(b, t, s, n) as c(b, t, s, n)
        where c.t = 'failed' group by 1, 2) v);
end
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'vigil_private.assert_analytics_caller()',
    'vigil_private.analytics_use_rollups(timestamptz, timestamptz, interval, text)',
    'vigil_private.analytics_rollup_plan(timestamptz, timestamptz)',
    'vigil_private.processing_counts_source(timestamptz, timestamptz, interval, boolean)',
    'vigil_private.processing_latency_source(timestamptz, timestamptz, interval, text, boolean)',
    'vigil_private.processing_errors_source(timestamptz, timestamptz, boolean)',
    'vigil_private.histogram_percentiles(timestamptz[], smallint[], bigint[], bigint[], integer[], integer[])',
    'vigil_private.processing_analytics_rollup(timestamptz, timestamptz, interval)',
    'vigil_private.analytics_volume_json(timestamptz[], text[], text[], bigint[])',
    'vigil_private.analytics_success_json(timestamptz[], text[], text[], bigint[])',
    'vigil_private.analytics_failures_json(timestamptz[], text[], text[], bigint[])',
    'public.processing_volume(timestamptz, timestamptz, interval, text)',
    'public.processing_success_rate(timestamptz, timestamptz, interval, text)',
    'public.processing_duration_percentiles(timestamptz, timestamptz, interval, text, text)',
    'public.processing_failures_by_stage(timestamptz, timestamptz, interval, text)',
    'public.processing_top_errors(timestamptz, timestamptz, integer, text)',
    'public.processing_analytics(timestamptz, timestamptz, interval, text)'
  ] loop
    execute format('revoke all on function %s from public, anon', f);
    execute format('grant execute on function %s to authenticated, service_role', f);
  end loop;
end
$$;
