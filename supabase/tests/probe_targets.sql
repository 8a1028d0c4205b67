-- Probe targets: link-local / cloud metadata always refused; private and loopback only with
-- allow_private_targets; no credentials in the row.
begin;
select plan(11);

select throws_ok($$insert into public.monitored_services (name, kind, target, allow_private_targets) values ('t-meta', 'http', 'http://169.254.169.254/latest/meta-data', true)$$,
  '22023', null, '169.254.169.254 refused even with allow_private_targets');
select throws_ok($$insert into public.monitored_services (name, kind, target, allow_private_targets) values ('t-meta6', 'http', 'http://[fd00:ec2::254]/', true)$$,
  '22023', null, 'fd00:ec2::254 refused');
select throws_ok($$insert into public.monitored_services (name, kind, target, allow_private_targets) values ('t-mapped', 'http', 'http://[::ffff:169.254.169.254]/', true)$$,
  '22023', null, 'IPv4-mapped link-local refused');
select throws_ok($$insert into public.monitored_services (name, kind, target, allow_private_targets) values ('t-gcp', 'http', 'http://metadata.google.internal/computeMetadata/v1/', true)$$,
  '22023', null, 'metadata.google.internal refused');
select throws_ok($$insert into public.monitored_services (name, kind, target, allow_private_targets) values ('t-ali', 'http', 'http://100.100.100.200/', true)$$,
  '22023', null, '100.100.100.200 refused');
select throws_ok($$insert into public.monitored_services (name, kind, target) values ('t-lo', 'http', 'http://127.0.0.1:8080/health')$$,
  '22023', null, 'loopback refused without allow_private_targets');
select throws_ok($$insert into public.monitored_services (name, kind, target) values ('t-10', 'http', 'http://10.1.2.3/health')$$,
  '22023', null, 'RFC 1918 refused without allow_private_targets');
select lives_ok($$insert into public.monitored_services (name, kind, target, allow_private_targets) values ('t-lo-ok', 'http', 'http://127.0.0.1:8080/health', true)$$,
  'loopback accepted with allow_private_targets');
select throws_ok($$insert into public.monitored_services (name, kind, target) values ('t-cred', 'http', 'https://user:pw@example.com/')$$,
  '22023', null, 'credentials in the URL refused');
select throws_ok($$insert into public.monitored_services (name, kind, target, config) values ('t-hdr', 'http', 'https://example.com/', '{"headers": {"Authorization": "Bearer x"}}')$$,
  '22023', null, 'a credential header inline is refused (Vault name required)');
select lives_ok($$insert into public.monitored_services (name, kind, target, config) values ('t-hdr-ok', 'http', 'https://example.com/', '{"secret_headers": {"Authorization": "llm_api_auth"}}')$$,
  'secret headers by Vault name are accepted');

select * from finish();
rollback;
