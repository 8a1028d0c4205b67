// Local sinks and fake upstreams run by the local stack (and by tests, on ephemeral ports).
export { startSmtpSink, type SinkMessage, type SmtpSink, type SmtpSinkOptions } from './smtp-sink.ts';
export { startWebhookSink, type RecordedRequest, type WebhookSink, type WebhookSinkOptions } from './webhook-sink.ts';
export {
  startFakeUpstreams,
  UPSTREAM_MODES,
  type FakeUpstreams,
  type FakeUpstreamsOptions,
  type UpstreamMode,
  type UpstreamState,
} from './fake-upstreams.ts';
