-- Monitored services: what the health-probe function probes, configured in SQL by admins (RLS), and
-- their runtime state (vigil_private, written only by the state machine).
create table if not exists public.monitored_services (
  id uuid primary key default extensions.gen_random_uuid(),
  name text not null unique check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  description text not null default '' check (char_length(description) <= 1000),
  kind text not null check (kind in ('http', 'postgres', 'heartbeat')),
  -- http: the URL; postgres: 'database' or 'scheduler'; heartbeat: unused.
  target text check (char_length(target) <= 2048),
  -- Kind-specific settings (see README). Secrets are referenced by Vault name (secret_headers), never stored.
  config jsonb not null default '{}'::jsonb check (jsonb_typeof(config) = 'object' and pg_column_size(config) <= 16384),
  interval_seconds integer not null default 60 check (interval_seconds between 10 and 86400),
  timeout_ms integer not null default 10000 check (timeout_ms between 100 and 60000),
  failure_threshold integer not null default 3 check (failure_threshold between 1 and 100),
  recovery_threshold integer not null default 2 check (recovery_threshold between 1 and 100),
  degraded_latency_ms integer check (degraded_latency_ms > 0),
  depends_on text[] not null default '{}'::text[] check (cardinality(depends_on) <= 20),
  -- Loopback / private-network targets (127.0.0.0/8, 10/8, ...) are refused unless set. Link-local and
  -- cloud-metadata addresses are refused always.
  allow_private_targets boolean not null default false,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint monitored_services_target_for_kind check (
    (kind = 'http' and target ~* '^https?://[^/]')
    or (kind = 'postgres' and target in ('database', 'scheduler'))
    or (kind = 'heartbeat')
  )
);
comment on table public.monitored_services is 'Services Vigil probes. Admins write through RLS.';

-- 'blocked' (never probed: link-local, cloud metadata, multicast, unspecified), 'private'
-- (loopback, RFC 1918, CGNAT, ULA: only with allow_private_targets) or 'public'.
create or replace function vigil_private.address_class(addr inet)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  a inet := host(addr)::inet;
begin
  -- IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  if family(a) = 6 and a <<= '::ffff:0.0.0.0/96'::inet then
    return vigil_private.address_class('0.0.0.0'::inet + (a - '::ffff:0.0.0.0'::inet));
  end if;
  if family(a) = 6 and a <<= '64:ff9b::/96'::inet then
    return vigil_private.address_class('0.0.0.0'::inet + (a - '64:ff9b::'::inet));
  end if;
  if family(a) = 4 then
    if a <<= '169.254.0.0/16' or a <<= '0.0.0.0/8' or a <<= '224.0.0.0/4' or a <<= '240.0.0.0/4'
       or a = '100.100.100.200' or a = '192.0.0.192' then
      return 'blocked';
    end if;
    if a <<= '127.0.0.0/8' or a <<= '10.0.0.0/8' or a <<= '172.16.0.0/12' or a <<= '192.168.0.0/16'
       or a <<= '100.64.0.0/10' or a <<= '198.18.0.0/15' or a <<= '192.0.0.0/24' then
      return 'private';
    end if;
    return 'public';
  end if;
  if a <<= 'fe80::/10' or a = 'fd00:ec2::254' or a <<= 'ff00::/8' or a = '::' then
    return 'blocked';
  end if;
  if a = '::1' or a <<= 'fc00::/7' then
    return 'private';
  end if;
  return 'public';
end
$$;
revoke all on function vigil_private.address_class(inet) from public;

-- Config-time target check (the probe re-checks every resolved address at run time).
-- Returns null when acceptable, else the reason.
create or replace function vigil_private.target_problem(target text, allow_private boolean)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  authority text := substring(target from '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)');
  host text;
  ip inet;
  cls text;
begin
  if authority is null or authority = '' then
    return 'target must be an absolute http(s) URL';
  end if;
  if position('@' in authority) > 0 then
    return 'credentials in the URL are not allowed; use secret_headers with a Vault secret';
  end if;
  host := lower(coalesce(substring(authority from '^\[([0-9A-Fa-f:.]+)\]'), substring(authority from '^([^:]+)')));
  host := rtrim(host, '.');
  if host is null or host = '' then
    return 'target has no host';
  end if;
  if host in ('metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal')
     or host like '%.metadata.google.internal' then
    return format('host %s is a cloud metadata endpoint', host);
  end if;
  if host ~ '^[0-9.]+$' or host ~ ':' then
    begin
      ip := host::inet;
    exception when others then
      return format('host %s is not a valid address', host);
    end;
    cls := vigil_private.address_class(ip);
    if cls = 'blocked' then
      return format('address %s is link-local, cloud-metadata or otherwise never probed', host);
    end if;
    if cls = 'private' and not allow_private then
      return format('address %s is private or loopback; set allow_private_targets to probe it', host);
    end if;
  elsif (host = 'localhost' or host like '%.localhost') and not allow_private then
    return format('host %s is loopback; set allow_private_targets to probe it', host);
  end if;
  return null;
end
$$;
revoke all on function vigil_private.target_problem(text, boolean) from public;

-- Validates a service row: target, kind-specific config, no secrets inline, dependencies exist.
create or replace function vigil_private.monitored_services_validate()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text;
  k text;
  v jsonb;
  missing text;
begin
  new.updated_at := now();
  if new.kind = 'http' then
    problem := vigil_private.target_problem(new.target, new.allow_private_targets);
    if problem is not null then
      raise exception 'service %: %', new.name, problem using errcode = '22023';
    end if;
    if new.config ? 'method' and not (new.config ->> 'method' in ('GET', 'HEAD', 'POST', 'PUT', 'OPTIONS')) then
      raise exception 'service %: config.method must be GET, HEAD, POST, PUT or OPTIONS', new.name using errcode = '22023';
    end if;
    foreach k in array array['expected_status', 'degraded_status'] loop
      if new.config ? k and (jsonb_typeof(new.config -> k) <> 'array' or exists (
           select 1 from jsonb_array_elements(new.config -> k) e
           where jsonb_typeof(e) <> 'number' or (e #>> '{}')::numeric not between 100 and 599)) then
        raise exception 'service %: config.% must be an array of HTTP status codes', new.name, k using errcode = '22023';
      end if;
    end loop;
    if new.config ? 'headers' then
      if jsonb_typeof(new.config -> 'headers') <> 'object' then
        raise exception 'service %: config.headers must be an object', new.name using errcode = '22023';
      end if;
      for k, v in select * from jsonb_each(new.config -> 'headers') loop
        if jsonb_typeof(v) <> 'string' then
          raise exception 'service %: header % must be a string', new.name, k using errcode = '22023';
        end if;
        if lower(k) in ('authorization', 'proxy-authorization', 'cookie', 'apikey', 'x-api-key', 'api-key', 'x-auth-token')
           or lower(k) like '%token%' or lower(k) like '%secret%' then
          raise exception 'service %: header % carries a credential; put it in Vault and reference it in config.secret_headers', new.name, k
            using errcode = '22023';
        end if;
      end loop;
    end if;
    if new.config ? 'secret_headers' then
      if jsonb_typeof(new.config -> 'secret_headers') <> 'object' or exists (
           select 1 from jsonb_each(new.config -> 'secret_headers') e
           where jsonb_typeof(e.value) <> 'string' or not ((e.value #>> '{}') ~ '^[A-Za-z0-9_.:/-]{1,255}$')) then
        raise exception 'service %: config.secret_headers maps header names to Vault secret names', new.name using errcode = '22023';
      end if;
    end if;
    if new.config ? 'json_assertions' and (jsonb_typeof(new.config -> 'json_assertions') <> 'array' or exists (
         select 1 from jsonb_array_elements(new.config -> 'json_assertions') e
         where jsonb_typeof(e) <> 'object' or jsonb_typeof(e -> 'path') is distinct from 'string')) then
      raise exception 'service %: config.json_assertions must be an array of {"path": "a.b", "equals": <value>}', new.name using errcode = '22023';
    end if;
  elsif new.kind = 'heartbeat' then
    if new.config ? 'period_seconds' and ((new.config ->> 'period_seconds') !~ '^\d+$' or (new.config ->> 'period_seconds')::bigint not between 10 and 2592000) then
      raise exception 'service %: config.period_seconds must be 10..2592000', new.name using errcode = '22023';
    end if;
    if new.config ? 'grace_seconds' and ((new.config ->> 'grace_seconds') !~ '^\d+$' or (new.config ->> 'grace_seconds')::bigint > 86400) then
      raise exception 'service %: config.grace_seconds must be 0..86400', new.name using errcode = '22023';
    end if;
  end if;
  if new.name = any(new.depends_on) then
    raise exception 'service % cannot depend on itself', new.name using errcode = '22023';
  end if;
  select d into missing from unnest(new.depends_on) d
  where not exists (select 1 from public.monitored_services s where s.name = d) limit 1;
  if missing is not null then
    raise exception 'service %: dependency % is not a monitored service', new.name, missing using errcode = '23503';
  end if;
  return new;
end
$$;
revoke all on function vigil_private.monitored_services_validate() from public;

drop trigger if exists monitored_services_validate on public.monitored_services;
create trigger monitored_services_validate
  before insert or update on public.monitored_services
  for each row execute function vigil_private.monitored_services_validate();

alter table public.monitored_services enable row level security;
revoke all on table public.monitored_services from public, anon, authenticated, service_role;
grant select, insert, update, delete on table public.monitored_services to authenticated, service_role;

drop policy if exists "admins read services" on public.monitored_services;
create policy "admins read services" on public.monitored_services for select to authenticated
  using ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins add services" on public.monitored_services;
create policy "admins add services" on public.monitored_services for insert to authenticated
  with check ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins change services" on public.monitored_services;
create policy "admins change services" on public.monitored_services for update to authenticated
  using ((select vigil_private.jwt_is_admin())) with check ((select vigil_private.jwt_is_admin()));
drop policy if exists "admins remove services" on public.monitored_services;
create policy "admins remove services" on public.monitored_services for delete to authenticated
  using ((select vigil_private.jwt_is_admin()));

-- Runtime state, one row per service: the confirmed status, streak counters, the probe lease
-- (so overlapping runs never probe a service twice), flapping and the last heartbeat.
create table if not exists vigil_private.service_state (
  service_id uuid primary key references public.monitored_services (id) on delete cascade,
  status text not null default 'unknown' check (status in ('unknown', 'healthy', 'degraded', 'down')),
  status_since timestamptz,
  last_result text check (last_result in ('healthy', 'degraded', 'down')),
  last_checked_at timestamptz,
  ok_streak integer not null default 0,
  bad_streak integer not null default 0,
  down_streak integer not null default 0,
  not_down_streak integer not null default 0,
  first_bad_at timestamptz,
  flapping boolean not null default false,
  state_changes timestamptz[] not null default '{}'::timestamptz[],
  last_state_change_at timestamptz,
  lease_run_id uuid,
  lease_until timestamptz,
  last_claimed_at timestamptz,
  last_heartbeat_at timestamptz,
  last_heartbeat_status text check (last_heartbeat_status in ('ok', 'fail')),
  last_heartbeat_message text check (char_length(last_heartbeat_message) <= 1000),
  updated_at timestamptz not null default now()
);
create index if not exists service_state_lease_run_idx on vigil_private.service_state (lease_run_id) where lease_run_id is not null;

-- Heartbeat tokens: only a SHA-256 digest is kept; the token is shown once by rotate_heartbeat_token().
create table if not exists vigil_private.heartbeat_tokens (
  service_id uuid primary key references public.monitored_services (id) on delete cascade,
  token_sha256 bytea not null check (octet_length(token_sha256) = 32),
  created_at timestamptz not null default now()
);

alter table vigil_private.service_state enable row level security;
alter table vigil_private.heartbeat_tokens enable row level security;
revoke all on table vigil_private.service_state from public, anon, authenticated, service_role;
revoke all on table vigil_private.heartbeat_tokens from public, anon, authenticated, service_role;
-- Admins see each service's current state (dashboards); tokens are readable by nobody but the owner.
grant select on table vigil_private.service_state to authenticated, service_role;
drop policy if exists "admins read service state" on vigil_private.service_state;
create policy "admins read service state" on vigil_private.service_state for select to authenticated
  using ((select vigil_private.jwt_is_admin()));
