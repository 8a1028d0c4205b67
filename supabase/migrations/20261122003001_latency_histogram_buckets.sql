-- The fixed latency histogram used by processing-event rollups. Fixed boundaries are what make
-- hourly histograms mergeable: p50/p95/p99 over any set of hours come from summing bucket counts.
--
-- Lower bounds in ms: 0..8 exactly, then ten buckets per decade (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8
-- x 10^n) up to 100,000,000 ms (about 28 h); the last bucket is open-ended. A bucket is at most a
-- third wider than its lower bound, which bounds the error of a percentile read from rollups.
-- Bucket i (1-based, as width_bucket(duration_ms, bounds) returns it) holds
-- bounds[i] <= duration_ms < bounds[i + 1].
create or replace function vigil_private.latency_bucket_bounds()
returns integer[]
language sql immutable parallel safe
set search_path = ''
as $$
  select '{0,1,2,3,4,5,6,8,10,12,15,20,25,30,40,50,60,80,100,120,150,200,250,300,400,500,600,800,1000,1200,1500,2000,2500,3000,4000,5000,6000,8000,10000,12000,15000,20000,25000,30000,40000,50000,60000,80000,100000,120000,150000,200000,250000,300000,400000,500000,600000,800000,1000000,1200000,1500000,2000000,2500000,3000000,4000000,5000000,6000000,8000000,10000000,12000000,15000000,20000000,25000000,30000000,40000000,50000000,60000000,80000000,100000000}'::integer[]
$$;

comment on function vigil_private.latency_bucket_bounds() is
  'Lower bounds (ms) of the fixed latency histogram buckets of processing-event rollups.';

-- The histogram bucket (1-based) of a duration; null for a null duration.
create or replace function vigil_private.latency_bucket(duration_ms integer)
returns smallint
language sql immutable parallel safe
set search_path = ''
as $$
  select pg_catalog.width_bucket(duration_ms, vigil_private.latency_bucket_bounds())::smallint
$$;

revoke all on function vigil_private.latency_bucket_bounds() from public;
revoke all on function vigil_private.latency_bucket(integer) from public;
-- The analytics functions run as the caller (admins, through RLS), so they need these.
grant execute on function vigil_private.latency_bucket_bounds() to authenticated, service_role;
grant execute on function vigil_private.latency_bucket(integer) to authenticated, service_role;
