/**
 * What both entries have: the API's types and schemas, the events, the config schema, the errors
 * and the plain values. Each entry adds its client: over fetch in the browser (browser.ts), over
 * node:http in Node (index.ts).
 *
 * This file and the entries re-export with `export *` only. A named re-export gives the file
 * that has it code of its own, and a bundle then hands whatever imports the file every module
 * the file imports: the CLI's client commands would load every schema, and TypeBox, at start-up.
 */
export * from './api.ts';
export * from './artifacts.ts';
export * from './checkout.ts';
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
export * from './replicas.ts';
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
