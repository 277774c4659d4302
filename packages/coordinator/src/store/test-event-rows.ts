import type { EventRecord } from '../store/port.ts';

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
