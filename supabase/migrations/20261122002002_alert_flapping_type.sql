-- A service whose confirmed state keeps changing gets ONE 'service_flapping' alert instead of a
-- storm of down/recovery alerts. Extends the alert_type enumeration (TEXT + CHECK).
alter table public.alert_events drop constraint if exists alert_events_alert_type_check;
alter table public.alert_events add constraint alert_events_alert_type_check
  check (alert_type in ('service_down', 'service_degraded', 'service_flapping', 'recovery'));
