// deliver(): validation, retry classification, never throws, bounded by its deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, providers, secretNamesOf, validateChannelConfig } from '../../supabase/functions/_shared/notify/registry.ts';
import type { Provider } from '../../supabase/functions/_shared/notify/types.ts';
import { startFakeUpstreams, type FakeUpstreams } from '../../stack/sinks/index.ts';
import { closedPort, notification, startServer } from './helpers.ts';

let up: FakeUpstreams;
beforeAll(async () => {
  up = await startFakeUpstreams({ port: 0 });
});
afterAll(async () => {
  await up?.close();
});

function withProvider(p: Provider<unknown>, fn: () => Promise<void>): Promise<void> {
  providers[p.kind] = p;
  return fn().finally(() => {
    delete providers[p.kind];
  });
}

describe('registry', () => {
  it('has the four providers', () => {
    expect(Object.keys(providers).sort()).toEqual(['email', 'email-api', 'slack', 'webhook']);
  });

  it('HTTP status classification: 5xx/429/408 retryable, other 4xx not, 2xx ok', async () => {
    let status = 200;
    const srv = await startServer((_r, res) => {
      res.writeHead(status);
      res.end();
    });
    try {
      const expectations: [number, boolean, boolean][] = [
        [200, true, false],
        [204, true, false],
        [500, false, true],
        [502, false, true],
        [503, false, true],
        [429, false, true],
        [408, false, true],
        [400, false, false],
        [401, false, false],
        [403, false, false],
        [404, false, false],
        [410, false, false],
        [422, false, false],
      ];
      for (const [s, ok, retryable] of expectations) {
        status = s;
        for (const kind of ['webhook', 'slack']) {
          const r = await deliver(kind, { url: srv.url }, notification(), {}, { timeoutMs: 5000 });
          expect({ kind, s, ok: r.ok, retryable: r.retryable, status: r.status }).toEqual({ kind, s, ok, retryable, status: s });
        }
      }
    } finally {
      await srv.close();
    }
  });

  it('redirects are not followed and not retried', async () => {
    const srv = await startServer((_r, res) => {
      res.writeHead(302, { location: 'http://elsewhere.invalid/' });
      res.end();
    });
    try {
      const r = await deliver('webhook', { url: srv.url }, notification(), {}, { timeoutMs: 5000 });
      expect(r).toMatchObject({ ok: false, retryable: false, status: 302 });
      expect(r.error).toContain('redirect');
    } finally {
      await srv.close();
    }
  });

  it('network error (connection refused) is retryable', async () => {
    const port = await closedPort();
    const r = await deliver('webhook', { url: `http://127.0.0.1:${port}/` }, notification(), {}, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/network error/);
    expect(r.status).toBeUndefined();
  });

  it('timeout (hanging receiver) is retryable and returns by the deadline', async () => {
    up.setMode('hook', 'hang');
    const t0 = Date.now();
    const r = await deliver('webhook', { url: `${up.url}/hook/health` }, notification(), {}, { timeoutMs: 300 });
    const elapsed = Date.now() - t0;
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toContain('timeout after 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
  });

  it('a provider that throws (sync or async) never throws out of deliver', async () => {
    const sync: Provider<unknown> = {
      kind: 'throws-sync',
      validateConfig: (c) => ({ ok: true, config: c }),
      send: () => {
        throw new Error('boom');
      },
    };
    const asyncP: Provider<unknown> = {
      kind: 'throws-async',
      validateConfig: (c) => ({ ok: true, config: c }),
      send: async () => {
        throw 'string failure';
      },
    };
    const badValidate: Provider<unknown> = {
      kind: 'bad-validate',
      validateConfig: () => {
        throw new TypeError('validator bug');
      },
      send: async () => ({ ok: true, retryable: false }),
    };
    const garbage: Provider<unknown> = {
      kind: 'garbage',
      validateConfig: (c) => ({ ok: true, config: c }),
      send: async () => undefined as never,
    };
    await withProvider(sync, async () => {
      await expect(deliver('throws-sync', {}, notification(), {}, { timeoutMs: 1000 })).resolves.toMatchObject({
        ok: false,
        retryable: true,
        error: 'provider error: boom',
      });
    });
    await withProvider(asyncP, async () => {
      await expect(deliver('throws-async', {}, notification(), {}, { timeoutMs: 1000 })).resolves.toMatchObject({ ok: false, retryable: true });
    });
    await withProvider(badValidate, async () => {
      const r = await deliver('bad-validate', {}, notification(), {}, { timeoutMs: 1000 });
      expect(r).toMatchObject({ ok: false, retryable: false });
      expect(r.error).toContain('validator bug');
    });
    await withProvider(garbage, async () => {
      await expect(deliver('garbage', {}, notification(), {}, { timeoutMs: 1000 })).resolves.toMatchObject({ ok: false, retryable: true });
    });
  });

  it('a provider that never settles is cut off at timeout + grace', async () => {
    const hang: Provider<unknown> = {
      kind: 'hangs',
      validateConfig: (c) => ({ ok: true, config: c }),
      send: () => new Promise(() => {}),
    };
    await withProvider(hang, async () => {
      const t0 = Date.now();
      const r = await deliver('hangs', {}, notification(), {}, { timeoutMs: 100 });
      expect(r).toMatchObject({ ok: false, retryable: true });
      expect(Date.now() - t0).toBeLessThan(2500);
    });
  });

  it('provider status overrides a wrong retryable flag', async () => {
    const liar: Provider<unknown> = {
      kind: 'liar',
      validateConfig: (c) => ({ ok: true, config: c }),
      send: async () => ({ ok: false, retryable: false, status: 503 }),
    };
    await withProvider(liar, async () => {
      expect(await deliver('liar', {}, notification(), {}, { timeoutMs: 1000 })).toMatchObject({ ok: false, retryable: true, status: 503, error: 'HTTP 503' });
    });
  });

  it('unknown kind and invalid config: not retryable, nothing sent', async () => {
    expect(await deliver('pager', {}, notification(), {}, { timeoutMs: 1000 })).toMatchObject({ ok: false, retryable: false });
    expect(await deliver('__proto__', {}, notification(), {}, { timeoutMs: 1000 })).toMatchObject({ ok: false, retryable: false });
    const r = await deliver('webhook', { url: 42 }, notification(), {}, { timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain('invalid webhook config: url must be a string');
    expect(await deliver('email', null, notification(), {}, { timeoutMs: 1000 })).toMatchObject({ ok: false, retryable: false });
  });

  it('validateChannelConfig and secretNamesOf for the admin API and the delivery worker', () => {
    expect(validateChannelConfig('webhook', { url: 'https://example.com/h', secret_name: 'x' }).ok).toBe(true);
    expect(validateChannelConfig('nope', {}).ok).toBe(false);
    expect(
      secretNamesOf({ url: 'https://e', secret_name: 'sig', secret_headers: { authorization: 'tok' }, password_secret_name: 'pw' }).sort(),
    ).toEqual(['pw', 'sig', 'tok']);
    expect(secretNamesOf(null)).toEqual([]);
  });
});
