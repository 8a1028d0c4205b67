-- Catch-all for tables added later: every table Vigil owns has RLS on, and anon can touch none.
begin;
select plan(2);

select is(
  (select coalesce(array_agg(n.nspname || '.' || c.relname order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'vigil_private', 'vigil_partitions')
     and c.relkind in ('r', 'p') and not c.relrowsecurity),
  '{}'::text[],
  'every table in public, vigil_private and vigil_partitions has row level security enabled');

select is(
  (select coalesce(array_agg(n.nspname || '.' || c.relname order by 1), '{}')
   from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'vigil_private', 'vigil_partitions')
     and c.relkind in ('r', 'p', 'v', 'm')
     and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('anon', c.oid, 'insert')
       or has_table_privilege('anon', c.oid, 'update') or has_table_privilege('anon', c.oid, 'delete'))),
  '{}'::text[],
  'anon holds no privilege on any Vigil table or view');

select * from finish();
rollback;
