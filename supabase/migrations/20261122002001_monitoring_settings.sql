-- Settings of the health state machine and notification delivery, and the caller checks shared by
-- Vigil's admin functions. Values are read with vigil_private.setting_int(key, fallback).
insert into vigil_private.settings (key, value, description) values
  ('renotify_interval_minutes', '60', 'An open, unacknowledged alert is notified again this often (0 = never).'),
  ('flap_window_minutes', '30', 'Window over which confirmed state changes are counted for flapping; also how long a flapping service must stay stable to settle.'),
  ('flap_threshold', '4', 'Confirmed state changes within the flap window that make a service flapping (one flapping alert instead of a storm).'),
  ('notify_lease_seconds', '120', 'How long a notification claimed by one delivery worker is reserved before another may retry it.'),
  ('probe_run_stale_minutes', '5', 'The scheduler probe reports down when no cron-triggered probe run started within this many minutes.')
on conflict (key) do nothing;

-- Admin = JWT app_metadata.role 'admin' (server-set; user_metadata is never trusted).
create or replace function vigil_private.jwt_is_admin()
returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role', '') = 'admin'
$$;
revoke all on function vigil_private.jwt_is_admin() from public;
grant execute on function vigil_private.jwt_is_admin() to authenticated, service_role;

-- For security definer admin functions: API callers (role anon/authenticated, set by PostgREST or
-- asUser()) must be admins; direct database sessions (postgres in the SQL editor, service_role,
-- cron) are trusted. SECURITY DEFINER changes current_user but not the `role` setting, so this
-- still sees the caller's role.
create or replace function vigil_private.caller_may_administer()
returns boolean
language sql stable
set search_path = ''
as $$
  select case
    when coalesce(nullif(current_setting('role', true), ''), 'none') in ('anon', 'authenticated')
      then vigil_private.jwt_is_admin()
    else true
  end
$$;
revoke all on function vigil_private.caller_may_administer() from public;
grant execute on function vigil_private.caller_may_administer() to authenticated, service_role;

create or replace function vigil_private.require_admin()
returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if not vigil_private.caller_may_administer() then
    raise exception 'only admins may do this' using errcode = '42501';
  end if;
end
$$;
revoke all on function vigil_private.require_admin() from public;
grant execute on function vigil_private.require_admin() to authenticated, service_role;
