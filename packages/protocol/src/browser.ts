/**
 * The browser entry (`@switchyard/protocol/browser`): the API's types and schemas, the events,
 * the config schema and the client, with nothing that needs Node. The dashboard imports this.
 */
export * from './api.ts';
export * from './artifacts.ts';
export * from './checkout.ts';
export * from './client.ts';
export * from './config.ts';
export * from './dashboard-views.ts';
export * from './errors.ts';
export * from './event-match.ts';
export * from './event-schemas.ts';
export * from './events.ts';
export * from './log-views.ts';
export * from './profiling.ts';
export * from './push-result.ts';
export * from './redact.ts';
export * from './routing-key.ts';
export * from './session-names.ts';
export * from './signing.ts';
export * from './sse.ts';
export * from './states.ts';
export * from './stats.ts';
export * from './subscriptions.ts';
export * from './text.ts';
export * from './tools.ts';
export * from './transport.ts';
export * from './version.ts';
