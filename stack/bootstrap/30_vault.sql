-- Platform bootstrap, part 4: a stand-in for Supabase Vault (hosted: the `supabase_vault`
-- extension, encrypting with pgsodium/libsodium under a key the database never exposes).
-- LOCAL STAND-IN with the same SQL interface: vault.create_secret, vault.update_secret and the view
-- vault.decrypted_secrets (name, decrypted_secret, ...). Secrets are encrypted with pgcrypto under a
-- root key only the bootstrap superuser can read.
create schema if not exists vault;

create table if not exists vault._root_key (
  singleton boolean primary key default true check (singleton),
  key text not null
);
insert into vault._root_key (key)
values (encode(extensions.gen_random_bytes(32), 'hex'))
on conflict do nothing;
revoke all on vault._root_key from public;

create table if not exists vault.secrets (
  id uuid primary key default extensions.gen_random_uuid(),
  name text unique,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
revoke all on vault.secrets from public;

create or replace function vault._crypt_key() returns text
language sql stable security definer set search_path = ''
as $$ select key from vault._root_key $$;
revoke all on function vault._crypt_key() from public;

create or replace function vault.create_secret(
  new_secret text,
  new_name text default null,
  new_description text default '',
  new_key_id uuid default null
) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  new_id uuid;
begin
  insert into vault.secrets (name, description, secret, key_id)
  values (
    new_name,
    coalesce(new_description, ''),
    encode(extensions.pgp_sym_encrypt(new_secret, vault._crypt_key()), 'base64'),
    new_key_id
  )
  returning id into new_id;
  return new_id;
end
$$;

create or replace function vault.update_secret(
  secret_id uuid,
  new_secret text default null,
  new_name text default null,
  new_description text default null,
  new_key_id uuid default null
) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  update vault.secrets s set
    secret = case when new_secret is null then s.secret
                  else encode(extensions.pgp_sym_encrypt(new_secret, vault._crypt_key()), 'base64') end,
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    key_id = coalesce(new_key_id, s.key_id),
    updated_at = now()
  where s.id = secret_id;
end
$$;

-- Owned by the bootstrap superuser, so readers need no access to vault.secrets or the root key.
create or replace view vault.decrypted_secrets as
select
  s.id,
  s.name,
  s.description,
  s.secret,
  -- Table access in a view is checked as its owner, function execution as the caller: so the key
  -- is read inline, and callers never get a function that returns it.
  extensions.pgp_sym_decrypt(decode(s.secret, 'base64'), (select k.key from vault._root_key k)) as decrypted_secret,
  s.key_id,
  s.nonce,
  s.created_at,
  s.updated_at
from vault.secrets s;

-- Hosted: postgres and service_role use Vault; the API roles do not.
grant usage on schema vault to postgres, service_role;
revoke all on vault.decrypted_secrets from public;
grant select on vault.decrypted_secrets to postgres, service_role;
grant select, delete on vault.secrets to postgres, service_role;
revoke all on function vault.create_secret(text, text, text, uuid) from public;
revoke all on function vault.update_secret(uuid, text, text, text, uuid) from public;
grant execute on function vault.create_secret(text, text, text, uuid) to postgres, service_role;
grant execute on function vault.update_secret(uuid, text, text, text, uuid) to postgres, service_role;
