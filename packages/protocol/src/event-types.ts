/**
 * The names of the event types, in catalogue order. EVENT_DATA (events.ts) holds each one's
 * schema and must name exactly these (the compiler checks it); the list lives apart from the
 * schemas so that the client and the CLI's client commands load no TypeBox.
 */
export const EVENT_TYPES = [
  'push.created',
  'push.completed',
  'job.waiting',
  'job.pending',
  'job.started',
  'job.finished',
  'step.started',
  'step.finished',
  'attempt.finished',
  'worker.connected',
  'worker.disconnected',
  'worker.benched',
  'config.reloaded',
  'artifact.created',
  'signing.finished',
  'subscription.changed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
