import { SWITCHYARD_VERSION, WORKER_PROTOCOL_HEADER, WORKER_PROTOCOL_VERSION } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { authSection, bearer, expectError, FARM_YAML, inProcessCoordinator } from '../inject-testing.ts';

const coordinator = inProcessCoordinator(FARM_YAML + authSection(true), 'test');

const claim = (protocol: number | undefined, payload: object = { pool: 'linux', waitSeconds: 0 }) =>
  coordinator.inject({
    method: 'POST',
    url: '/api/v1/workers/w1/claim',
    headers: {
      ...bearer('worker'),
      ...(protocol === undefined ? {} : { [WORKER_PROTOCOL_HEADER]: String(protocol) }),
    },
    payload,
  });

describe('the worker protocol version', () => {
  it('takes claims of its protocol, of the one before, and without the header (workers from before protocol versions)', async () => {
    for (const protocol of [WORKER_PROTOCOL_VERSION, WORKER_PROTOCOL_VERSION - 1, undefined]) {
      const response = await claim(protocol);
      expect(response.statusCode, `protocol ${protocol}`).toBe(200);
      expect(response.json()).toEqual({ assignment: null });
    }
  });

  it('refuses an older worker with 400 worker-too-old, naming what it takes, whatever its body', async () => {
    const tooOld = WORKER_PROTOCOL_VERSION - 2;
    const accepted = [WORKER_PROTOCOL_VERSION - 1, WORKER_PROTOCOL_VERSION];
    const refusal = expectError(await claim(tooOld), 400, 'worker-too-old');
    expect(refusal.message).toBe(
      `this worker speaks worker protocol ${tooOld}; this coordinator (Switchyard ${SWITCHYARD_VERSION}) takes worker protocols ${accepted.join(' and ')}: upgrade the worker (docs/guide/upgrades.md)`,
    );
    expect(refusal.details).toEqual({ workerProtocol: tooOld, accepted });
    // A body of fields this coordinator no longer knows is not what the old worker is told about.
    expectError(await claim(tooOld, { pool: 'linux', retired: true }), 400, 'worker-too-old');
    expect(await coordinator.inject({ url: '/api/v1/workers' }).then((r) => r.json().workers)).toEqual([]);
  });

  it('refuses a newer worker with 400 worker-too-new: coordinators are upgraded first', async () => {
    const refusal = expectError(await claim(WORKER_PROTOCOL_VERSION + 1), 400, 'worker-too-new');
    expect(refusal.message).toMatch(/upgrade the coordinators before the workers \(docs\/guide\/upgrades\.md\)$/);
  });

  it('refuses a header that is not a version with 400 invalid-request', async () => {
    const response = await coordinator.inject({
      method: 'POST',
      url: '/api/v1/workers/w1/claim',
      headers: { ...bearer('worker'), [WORKER_PROTOCOL_HEADER]: 'latest' },
      payload: { pool: 'linux', waitSeconds: 0 },
    });
    expect(expectError(response, 400, 'invalid-request').message).toMatch(/switchyard-protocol header/);
  });
});
