// Shapes shared by the probe kinds, the runner and the health-probe function. Probes classify one
// result (healthy / degraded / down + reason); every alerting decision is made in the database
// (vigil_private.record_probe_results).

export type ProbeStatus = 'healthy' | 'degraded' | 'down';

/** One service as vigil_private.start_probe_run() returns it (no secret values). */
export interface ClaimedService {
  id: string;
  name: string;
  kind: 'http' | 'postgres' | 'heartbeat';
  target: string | null;
  config: Record<string, unknown>;
  timeout_ms: number;
  degraded_latency_ms: number | null;
  allow_private_targets: boolean;
  /** heartbeat kind: the verdict the database decided from the last ping. */
  heartbeat?: { status: ProbeStatus | 'pending'; reason?: string; [k: string]: unknown } | null;
}

/** What record_probe_results() takes. `details` never holds header values or secrets. */
export interface ProbeResult {
  service_id: string;
  status: ProbeStatus;
  latency_ms: number | null;
  checked_at: string;
  details: Record<string, unknown> & { reason: string };
}

export interface ProbeContext {
  /** Aborted when the service's own timeout is reached. */
  signal: AbortSignal;
  /** Secret values by Vault name (only those the service references). */
  secrets: Record<string, string>;
  /** Host-name resolver (injectable for tests). */
  resolve?: (host: string) => Promise<string[]>;
}

/** Result of a probe before the runner stamps id / time. `null` = nothing to record this run. */
export type ProbeOutcome = { status: ProbeStatus; latency_ms: number | null; details: Record<string, unknown> & { reason: string } } | null;
