// Slack-compatible incoming webhook (also Mattermost, Rocket.Chat, Discord's /slack endpoint).
// Body: a `text` line (what notifications and non-Block-Kit receivers show) plus one attachment
// coloured by severity (green on recovery). format 'blocks' (default) puts Block Kit blocks inside
// the attachment; format 'legacy' uses the classic title/text/fields attachment that every
// Slack-compatible receiver renders.
//
// The webhook URL carries a token: prefer url_secret_name (resolved from Vault by the caller) to url.

import { ConfigReader, detailPairs, headline, httpPost, oneLine, severityColor, stateLabel } from '../common.ts';
import type { DeliveryResult, Notification, Provider, SendOptions, ValidationResult } from '../types.ts';

export interface SlackConfig {
  /** Incoming webhook URL (stored in config; visible to admins). */
  url?: string;
  /** Name of the secret holding the webhook URL (preferred: the URL is a credential). */
  url_secret_name?: string;
  channel?: string;
  username?: string;
  icon_emoji?: string;
  format: 'blocks' | 'legacy';
}

export function validateSlackConfig(config: unknown): ValidationResult<SlackConfig> {
  const r = new ConfigReader(config);
  const url = r.httpUrl('url');
  const url_secret_name = r.secretName('url_secret_name');
  if (r.obj.url === undefined && r.obj.url_secret_name === undefined) {
    r.error('url', 'url or url_secret_name is required');
  } else if (r.obj.url !== undefined && r.obj.url_secret_name !== undefined) {
    r.error('url', 'give url or url_secret_name, not both');
  }
  const channel = r.string('channel', { maxLength: 80 });
  const username = r.string('username', { maxLength: 80 });
  const icon_emoji = r.string('icon_emoji', { maxLength: 80 });
  const format = r.obj.format ?? 'blocks';
  if (format !== 'blocks' && format !== 'legacy') r.error('format', "must be 'blocks' or 'legacy'");
  const out: SlackConfig = { format: format === 'legacy' ? 'legacy' : 'blocks' };
  if (url) out.url = url;
  if (url_secret_name) out.url_secret_name = url_secret_name;
  if (channel) out.channel = channel;
  if (username) out.username = username;
  if (icon_emoji) out.icon_emoji = icon_emoji;
  return r.done(out);
}

/** Slack mrkdwn needs only &, < and > escaped. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function stateEmoji(n: Notification): string {
  switch (stateLabel(n)) {
    case 'RECOVERED':
      return ':large_green_circle:';
    case 'DOWN':
      return ':red_circle:';
    case 'FLAPPING':
      return ':large_orange_circle:';
    default:
      return n.severity === 'critical' ? ':red_circle:' : n.severity === 'warning' ? ':large_yellow_circle:' : ':large_blue_circle:';
  }
}

function dashboardUrl(n: Notification): string | undefined {
  if (!n.dashboard_url) return undefined;
  try {
    const u = new URL(n.dashboard_url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

export type SlackPayload = Record<string, unknown> & { text: string; attachments: Record<string, unknown>[] };

export function buildSlackPayload(n: Notification, config: Pick<SlackConfig, 'channel' | 'username' | 'icon_emoji' | 'format'> = { format: 'blocks' }): SlackPayload {
  const title = headline(n);
  const summary = oneLine(n.summary, 1500);
  const color = severityColor(n);
  const ts = Math.floor((Date.parse(n.occurred_at) || Date.now()) / 1000);
  const url = dashboardUrl(n);
  const fieldPairs: [string, string][] = [
    ['Service', oneLine(n.service_name, 200)],
    ['Severity', n.severity],
    ['Alert', `${oneLine(n.alert_type, 100)} (${oneLine(n.status, 50)})`],
    ['Event', n.kind],
  ];
  const details = detailPairs(n, 10);

  const payload: SlackPayload = {
    text: `${stateEmoji(n)} *${escapeMrkdwn(title)}*${summary ? ` — ${escapeMrkdwn(summary)}` : ''}`,
    attachments: [],
  };
  if (config.channel) payload.channel = config.channel;
  if (config.username) payload.username = config.username;
  if (config.icon_emoji) payload.icon_emoji = config.icon_emoji;

  if (config.format === 'legacy') {
    const attachment: Record<string, unknown> = {
      color,
      fallback: escapeMrkdwn(`${title}: ${summary}`),
      title: escapeMrkdwn(title),
      text: escapeMrkdwn(summary),
      fields: [...fieldPairs, ...details].map(([k, v]) => ({ title: k, value: escapeMrkdwn(v.slice(0, 300)), short: v.length <= 40 })),
      footer: 'Vigil',
      ts,
      mrkdwn_in: ['text', 'fields'],
    };
    if (url) attachment.title_link = url;
    payload.attachments.push(attachment);
    return payload;
  }

  const blocks: Record<string, unknown>[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*${escapeMrkdwn(title)}*\n${escapeMrkdwn(summary)}`.slice(0, 3000) },
    },
    {
      type: 'section',
      // Block Kit: at most 10 fields, 2000 characters each.
      fields: fieldPairs.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${escapeMrkdwn(v)}`.slice(0, 2000) })),
    },
  ];
  if (details.length) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: details.map(([k, v]) => `*${escapeMrkdwn(k)}*: ${escapeMrkdwn(v)}`).join('\n').slice(0, 3000),
      },
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Vigil · <!date^${ts}^{date_short_pretty} {time_secs}|${escapeMrkdwn(oneLine(n.occurred_at, 64))}> · alert ${escapeMrkdwn(oneLine(n.alert_id, 100))}` }],
  });
  if (url) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open dashboard' }, url }],
    });
  }
  payload.attachments.push({ color, fallback: escapeMrkdwn(`${title}: ${summary}`), blocks });
  return payload;
}

export const slackProvider: Provider<SlackConfig> = {
  kind: 'slack',
  validateConfig: validateSlackConfig,
  async send(config: SlackConfig, n: Notification, secrets: Record<string, string>, opts: SendOptions): Promise<DeliveryResult> {
    let url = config.url;
    if (config.url_secret_name) {
      url = secrets[config.url_secret_name];
      if (!url) return { ok: false, retryable: false, error: `secret '${config.url_secret_name}' (Slack webhook URL) is not set` };
    }
    if (!url) return { ok: false, retryable: false, error: 'no webhook URL' };
    const body = JSON.stringify(buildSlackPayload(n, config));
    const { result } = await httpPost(url, body, { 'content-type': 'application/json', 'user-agent': 'Vigil-Notify/1' }, opts.timeoutMs);
    return result;
  },
};

export default slackProvider;
