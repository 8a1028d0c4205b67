-- Daily partitions for the high-volume tables: created ahead of time, dropped when older than the
-- retention setting. Dropping a partition costs the same at 1M or 100M rows, unlike DELETE.
create table if not exists vigil_private.partitioned_tables (
  parent regclass primary key,
  retention_setting text not null default 'retention_days',
  retention_fallback_days integer not null default 30 check (retention_fallback_days > 0)
);
alter table vigil_private.partitioned_tables enable row level security;
revoke all on table vigil_private.partitioned_tables from public, anon, authenticated, service_role;
grant select on table vigil_private.partitioned_tables to service_role;
-- service_role bypasses RLS; this policy only documents that nobody else reads it.
drop policy if exists "service role only" on vigil_private.partitioned_tables;
create policy "service role only" on vigil_private.partitioned_tables for select to service_role using (true);

insert into vigil_private.partitioned_tables (parent) values
  ('public.service_health_checks'),
  ('public.document_processing_events')
on conflict (parent) do nothing;

-- The column a table is range-partitioned on, e.g. 'checked_at'.
create or replace function vigil_private.partition_column(parent regclass)
returns text
language sql stable
set search_path = ''
as $$
  select a.attname::text
  from pg_catalog.pg_partitioned_table pt
  join pg_catalog.pg_attribute a on a.attrelid = pt.partrelid and a.attnum = pt.partattrs[0]
  where pt.partrelid = parent
$$;

-- vigil_partitions.<table>_p<YYYYMMDD> for one UTC day.
create or replace function vigil_private.partition_name(parent regclass, day date)
returns text
language sql stable
set search_path = ''
as $$
  select (select c.relname from pg_catalog.pg_class c where c.oid = parent) || '_p' || to_char(day, 'YYYYMMDD')
$$;

-- Creates the daily partition for `day` unless it exists. Rows that landed in the default
-- partition for that day are moved into it, so no row is ever lost or stranded.
create or replace function vigil_private.create_day_partition(parent regclass, day date)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  part text := vigil_private.partition_name(parent, day);
  col text := vigil_private.partition_column(parent);
  parent_name text := (select c.relname from pg_catalog.pg_class c where c.oid = parent);
  default_part text := parent_name || '_default';
  lo timestamptz := (day::timestamp at time zone 'UTC');
  hi timestamptz := ((day + 1)::timestamp at time zone 'UTC');
  stranded boolean;
begin
  if to_regclass(format('vigil_partitions.%I', part)) is not null then
    return false;
  end if;
  execute format('select exists (select 1 from vigil_partitions.%I where %I >= $1 and %I < $2)', default_part, col, col)
    into stranded using lo, hi;
  if stranded then
    execute format('create table vigil_partitions.%I (like %s including defaults including constraints)', part, parent);
    execute format(
      'with moved as (delete from vigil_partitions.%I where %I >= $1 and %I < $2 returning *) insert into vigil_partitions.%I select * from moved',
      default_part, col, col, part) using lo, hi;
    execute format('alter table %s attach partition vigil_partitions.%I for values from (%L) to (%L)', parent, part, lo, hi);
  else
    execute format('create table vigil_partitions.%I partition of %s for values from (%L) to (%L)', part, parent, lo, hi);
  end if;
  execute format('alter table vigil_partitions.%I enable row level security', part);
  execute format('revoke all on table vigil_partitions.%I from public, anon, authenticated', part);
  return true;
end
$$;

-- Creates missing daily partitions from `retention` days back to `days_ahead` days ahead and
-- drops those entirely older than the retention window. Returns what it did.
create or replace function vigil_private.maintain_partitions(today date default (now() at time zone 'UTC')::date)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  t record;
  p record;
  retention integer;
  ahead integer := vigil_private.setting_int('partition_days_ahead', 7);
  cutoff date;
  d date;
  col text;
  created text[] := '{}'::text[];
  dropped text[] := '{}'::text[];
  purged bigint;
  purged_total bigint := 0;
begin
  for t in select * from vigil_private.partitioned_tables loop
    retention := vigil_private.setting_int(t.retention_setting, t.retention_fallback_days);
    cutoff := today - retention;
    col := vigil_private.partition_column(t.parent);

    for p in
      select c.relname, to_date(substring(c.relname from '_p(\d{8})$'), 'YYYYMMDD') as day
      from pg_catalog.pg_inherits i
      join pg_catalog.pg_class c on c.oid = i.inhrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where i.inhparent = t.parent and n.nspname = 'vigil_partitions' and c.relname ~ '_p\d{8}$'
    loop
      if p.day < cutoff then
        execute format('drop table vigil_partitions.%I', p.relname);
        dropped := dropped || p.relname::text;
      end if;
    end loop;

    -- Expired rows that fell into the default partition go too (it should hold almost nothing).
    execute format('delete from vigil_partitions.%I where %I < $1',
      (select c.relname from pg_catalog.pg_class c where c.oid = t.parent) || '_default', col)
      using (cutoff::timestamp at time zone 'UTC');
    get diagnostics purged = row_count;
    purged_total := purged_total + purged;

    d := cutoff;
    while d <= today + ahead loop
      if vigil_private.create_day_partition(t.parent, d) then
        created := created || vigil_private.partition_name(t.parent, d);
      end if;
      d := d + 1;
    end loop;
  end loop;
  return jsonb_build_object('created', to_jsonb(created), 'dropped', to_jsonb(dropped), 'purged_default_rows', purged_total);
end
$$;

revoke all on function vigil_private.partition_column(regclass) from public;
revoke all on function vigil_private.partition_name(regclass, date) from public;
revoke all on function vigil_private.create_day_partition(regclass, date) from public;
revoke all on function vigil_private.maintain_partitions(date) from public;

select vigil_private.maintain_partitions();
