import { ApiRequestError, type HeartbeatResponse, SwitchyardClient } from '@switchyard/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type HeartbeatOptions, selfFencing, startHeartbeat } from './heartbeat.ts';

/** Answers heartbeats from a script of outcomes, the last one repeating. */
class ScriptedClient extends SwitchyardClient {
  calls = 0;

  constructor(private readonly script: (() => Promise<HeartbeatResponse>)[]) {
    super({ server: 'http://coordinator.invalid' });
  }

  override heartbeat(): Promise<HeartbeatResponse> {
    const step = this.script[Math.min(this.calls, this.script.length - 1)]!;
    this.calls++;
    return step();
  }
}

const ok =
  (cancel = false) =>
  () =>
    Promise.resolve({ cancel, leaseExpiresAt: new Date().toISOString(), heldMs: 0 });
const unreachable = () => Promise.reject(new TypeError('fetch failed'));

function run(client: ScriptedClient, overrides: Partial<HeartbeatOptions> = {}) {
  const events: string[] = [];
  let settle = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const heartbeat = startHeartbeat({
    client,
    attemptId: 1,
    waitSeconds: 10,
    fenceAfterMs: 60_000,
    leaseGrantedAt: performance.now(),
    logger: pino({ level: 'silent' }),
    onCancel: () => {
      events.push('cancel');
      settle();
    },
    onLeaseLost: () => {
      events.push('lease-lost');
      settle();
    },
    onLostContact: (_silentMs, coordinatorAway) => {
      events.push(coordinatorAway ? 'lost-contact: coordinator away' : 'lost-contact');
      settle();
    },
    ...overrides,
  });
  return { events, settled, heartbeat };
}

describe('selfFencing', () => {
  it('gives up a second plus the kill grace before the lease ends', () => {
    expect(selfFencing(30, 5000)).toEqual({ afterMs: 24_000, killGraceMs: 5000 });
  });

  it('shortens the kill grace when the lease is too short for it', () => {
    const fencing = selfFencing(5, 5000);
    expect(fencing).toEqual({ afterMs: 2500, killGraceMs: 1500 });
    expect(fencing.afterMs + fencing.killGraceMs).toBeLessThan(5000);
  });
});

describe('startHeartbeat', () => {
  it('sends again after each answer and passes on a cancel', async () => {
    const client = new ScriptedClient([ok(), ok(), ok(true)]);
    const { events, settled } = run(client);
    await settled;
    expect(events).toEqual(['cancel']);
    expect(client.calls).toBe(3);
  });

  it('sends nothing before firstAfterMs: an attempt over by then costs no heartbeat', async () => {
    const client = new ScriptedClient([ok()]);
    const { heartbeat } = run(client, { firstAfterMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    heartbeat.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.calls).toBe(0);
  });

  it('stops at once on 409 lease-lost', async () => {
    const client = new ScriptedClient([() => Promise.reject(new ApiRequestError(409, 'lease-lost', 'gone'))]);
    const { events, settled } = run(client);
    await settled;
    expect(events).toEqual(['lease-lost']);
    expect(client.calls).toBe(1);
  });

  it('retries through failures, and fences itself when none is acknowledged for too long', async () => {
    const client = new ScriptedClient([ok(), unreachable]);
    const { events, settled, heartbeat } = run(client, { fenceAfterMs: 1500 });
    await settled;
    heartbeat.stop();
    expect(events).toEqual(['lost-contact']);
    expect(client.calls).toBeGreaterThan(2);
  });

  it('says the coordinator was away when its port was closed throughout, as in a long restart', async () => {
    const refused = () =>
      Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7420'), { code: 'ECONNREFUSED' }));
    const client = new ScriptedClient([ok(), unreachable, refused]);
    const { events, settled, heartbeat } = run(client, { fenceAfterMs: 1500 });
    await settled;
    heartbeat.stop();
    expect(events).toEqual(['lost-contact: coordinator away']);
  });

  it('does not fence while heartbeats are acknowledged', async () => {
    // Answered after 50 ms and sent at most once a second: each acknowledgement comes well
    // within the 2.5 s allowed, so the fence is re-armed each time and never fires.
    const client = new ScriptedClient([
      () => new Promise((resolve) => setTimeout(() => resolve({ cancel: false, leaseExpiresAt: '', heldMs: 0 }), 50)),
    ]);
    const { events, heartbeat } = run(client, { fenceAfterMs: 2500 });
    await new Promise((resolve) => setTimeout(resolve, 4000));
    heartbeat.stop();
    expect(events).toEqual([]);
    expect(client.calls).toBeGreaterThan(2);
  });
});
