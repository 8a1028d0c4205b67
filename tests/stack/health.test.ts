// The `health` function over real HTTP: client -> local edge runtime -> Postgres.
import { describe, expect, it } from 'vitest';
import { callFunction, stack } from '../support/stack.ts';

describe('health function', () => {
  it('answers GET with the database round-trip latency for a publishable key', async () => {
    const s = await stack();
    const res = await callFunction('health', { headers: { apikey: s.publishable_key } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe('ok');
    expect(typeof body.database.latency_ms).toBe('number');
    expect(body.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(body.database.version).toMatch(/^15\./);
  });

  it('accepts the secret key as a Bearer token', async () => {
    const s = await stack();
    const res = await callFunction('health', { headers: { authorization: `Bearer ${s.secret_key}` } });
    expect(res.status).toBe(200);
  });

  it('refuses a request without a key with 401', async () => {
    const res = await callFunction('health');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'missing_api_key' });
  });

  it('refuses a wrong key with 403', async () => {
    const s = await stack();
    const wrong = s.secret_key.slice(0, -1) + (s.secret_key.endsWith('A') ? 'B' : 'A');
    for (const key of [wrong, 'sb_secret_nope', s.admin_jwt]) {
      const res = await callFunction('health', { headers: { apikey: key } });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'invalid_api_key' });
    }
  });

  it('answers other methods with 405 and an Allow header', async () => {
    const s = await stack();
    const res = await callFunction('health', { method: 'POST', headers: { apikey: s.secret_key }, body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('answers an unknown function with 404', async () => {
    const res = await callFunction('no-such-function');
    expect(res.status).toBe(404);
  });
});
