import type { EventRecord } from '../store/port.ts';
import type { CommittedWrite } from './commit-signal.ts';

/** A stored `config.reloaded` event row with this id, for tests of what reads the events table. */
export function configReloadedRow(id: number): EventRecord {
  return {
    id,
    type: 'config.reloaded',
    created_at: 0,
    repo: null,
    branch: null,
    builder: null,
    job_id: null,
    push_id: null,
    data: JSON.stringify({ builders: 1, repos: 1 }),
  };
}

/** A commit of these event rows alone, not announced to other coordinators yet, as the store tells its commit signal. */
export function commitOf(events: readonly EventRecord[]): CommittedWrite {
  return { events, grownLogs: [], announced: { events: false, logs: new Set() } };
}
