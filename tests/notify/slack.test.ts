// Slack-compatible incoming webhook: body shape, colours, escaping, delivery to the webhook sink.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSlackPayload, validateSlackConfig } from '../../supabase/functions/_shared/notify/slack/index.ts';
import { deliver } from '../../supabase/functions/_shared/notify/registry.ts';
import { startWebhookSink, type WebhookSink } from '../../stack/sinks/index.ts';
import { notification } from './helpers.ts';

let sink: WebhookSink;
beforeAll(async () => {
  sink = await startWebhookSink({ port: 0 });
});
afterAll(async () => {
  await sink?.close();
});

type Block = { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { url?: string }[] };

describe('slack provider', () => {
  it('builds text + a severity-coloured attachment with Block Kit blocks', () => {
    const p = buildSlackPayload(notification());
    expect(p.text).toContain('*DOWN: llm-api*');
    expect(p.text).toContain('llm-api failed 3 consecutive probes');
    expect(p.attachments).toHaveLength(1);
    const att = p.attachments[0] as { color: string; fallback: string; blocks: Block[] };
    expect(att.color).toBe('#E01E5A');
    expect(att.fallback).toContain('DOWN: llm-api');
    expect(att.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(att.blocks[1].fields?.map((f) => f.text)).toEqual(
      expect.arrayContaining(['*Service*\nllm-api', '*Severity*\ncritical']),
    );
    const actions = att.blocks.find((b) => b.type === 'actions');
    expect(actions?.elements?.[0].url).toBe('http://127.0.0.1:54321/dashboard/#/alerts/6f1c2a9e');
    expect(JSON.stringify(p).length).toBeLessThan(8000);
  });

  it('colours by severity, green on recovery', () => {
    const color = (over: Parameters<typeof notification>[0]) => (buildSlackPayload(notification(over)).attachments[0] as { color: string }).color;
    expect(color({ severity: 'warning', alert_type: 'service_degraded' })).toBe('#ECB22E');
    expect(color({ severity: 'info' })).toBe('#36C5F0');
    expect(color({ kind: 'resolved' })).toBe('#2EB67D');
    expect(buildSlackPayload(notification({ kind: 'resolved' })).text).toContain('RECOVERED: llm-api');
  });

  it('escapes mrkdwn control characters (no forged links or mentions)', () => {
    const p = buildSlackPayload(notification({ summary: '<!channel> <http://evil|click> & more' }));
    expect(p.text).toContain('&lt;!channel&gt; &lt;http://evil|click&gt; &amp; more');
    expect(JSON.stringify(p)).not.toContain('<!channel>');
  });

  it('legacy format: classic title/fields attachment for Mattermost / Discord /slack', () => {
    const p = buildSlackPayload(notification(), { format: 'legacy', channel: '#ops', username: 'Vigil' });
    expect(p).toMatchObject({ channel: '#ops', username: 'Vigil' });
    const att = p.attachments[0] as Record<string, unknown>;
    expect(att).toMatchObject({ color: '#E01E5A', title: 'DOWN: llm-api', footer: 'Vigil' });
    expect(att.title_link).toBe('http://127.0.0.1:54321/dashboard/#/alerts/6f1c2a9e');
    expect(att.fields).toEqual(expect.arrayContaining([{ title: 'Service', value: 'llm-api', short: true }]));
  });

  it('delivers JSON to the webhook URL, from config or from a secret', async () => {
    const r = await deliver('slack', { url: `${sink.url}/services/T000/B000/XXX` }, notification(), {}, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, status: 200 });
    const r2 = await deliver('slack', { url_secret_name: 'slack_url' }, notification({ kind: 'resolved' }), { slack_url: `${sink.url}/from-secret` }, { timeoutMs: 5000 });
    expect(r2.ok).toBe(true);
    const reqs = sink.requests();
    expect(reqs.map((q) => q.path)).toEqual(['/services/T000/B000/XXX', '/from-secret']);
    expect(reqs[0].headers['content-type']).toBe('application/json');
    const body = JSON.parse(reqs[0].body);
    expect(body.text).toContain('DOWN: llm-api');
    expect(body.attachments[0].color).toBe('#E01E5A');
    expect(JSON.parse(reqs[1].body).text).toContain('RECOVERED');

    const missing = await deliver('slack', { url_secret_name: 'nope' }, notification(), {}, { timeoutMs: 5000 });
    expect(missing).toMatchObject({ ok: false, retryable: false });
  });

  it('validates config', () => {
    expect(validateSlackConfig({ url: 'https://hooks.slack.com/services/a/b/c' }).ok).toBe(true);
    expect(validateSlackConfig({}).ok).toBe(false);
    expect(validateSlackConfig({ url: 'https://x.example', url_secret_name: 'y' }).ok).toBe(false);
    expect(validateSlackConfig({ url: 'javascript:alert(1)' }).ok).toBe(false);
    expect(validateSlackConfig({ url: 'https://x.example', format: 'fancy' }).ok).toBe(false);
  });
});
