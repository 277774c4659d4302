import { describe, expect, it } from 'vitest';
import type { SchedulableJob, SchedulableWorker, SchedulingPolicy } from './model.ts';
import { schedule } from './schedule.ts';
import { job, MINUTE, SMART_POLICY, worker } from './testing.ts';

const NOW = 1_000 * MINUTE;

function run(pending: SchedulableJob[], idle: SchedulableWorker[], policy: Partial<SchedulingPolicy> = {}) {
  return schedule({ now: NOW, pending, idle, policy: { ...SMART_POLICY, ...policy } });
}

describe('queue order', () => {
  it('takes the most important priority first, then the oldest', () => {
    const pending = [
      job({ id: 1, priority: 5, pendingSince: NOW - 2 * MINUTE }),
      job({ id: 2, priority: 3, pendingSince: NOW - 1 * MINUTE }),
      job({ id: 3, priority: 3, pendingSince: NOW - 3 * MINUTE }),
    ];
    const decisions = run(pending, [worker('w1')], { fitBand: 0 });
    expect(decisions.map((d) => d.jobId)).toEqual([3]);
    const all = run(
      pending,
      [worker('w1', { idleSince: 1 }), worker('w2', { idleSince: 2 }), worker('w3', { idleSince: 3 })],
      {
        fitBand: 0,
      },
    );
    expect(all.map((d) => d.jobId)).toEqual([3, 2, 1]);
  });

  it('is plain FIFO when priorities are off', () => {
    const pending = [
      job({ id: 1, priority: 5, pendingSince: NOW - 2 * MINUTE }),
      job({ id: 2, priority: 0, pendingSince: NOW }),
    ];
    expect(run(pending, [worker('w1')], { priorities: false }).map((d) => d.jobId)).toEqual([1]);
  });

  it('ages waiting jobs so low priority work is delayed, never starved', () => {
    // One worker, and a fresh priority-0 job arriving every minute, for ever; one priority-6
    // job waiting from the start. It must run once it has waited 6 levels × 10 min.
    const old = job({ id: 1, priority: 6, pendingSince: 0 });
    let ranAt: number | null = null;
    const pending: SchedulableJob[] = [old];
    for (let minute = 1; minute <= 200 && ranAt === null; minute++) {
      const now = minute * MINUTE;
      pending.push(job({ id: 1000 + minute, priority: 0, pendingSince: now }));
      const [decision] = schedule({ now, pending, idle: [worker('w1')], policy: SMART_POLICY });
      if (decision?.jobId === 1) ranAt = now;
      pending.splice(
        pending.findIndex((j) => j.id === decision?.jobId),
        1,
      );
    }
    expect(ranAt).not.toBeNull();
    expect(ranAt as number).toBeLessThanOrEqual(62 * MINUTE);
  });

  it('without aging a flood of urgent work would starve it (the reason aging exists)', () => {
    const pending = [
      job({ id: 1, priority: 6, pendingSince: 0 }),
      job({ id: 2, priority: 0, pendingSince: 500 * MINUTE }),
    ];
    expect(run(pending, [worker('w1')], { agingMs: 0 }).map((d) => d.jobId)).toEqual([2]);
    expect(run(pending, [worker('w1')]).map((d) => d.jobId)).toEqual([1]);
  });
});

describe('head-of-line blocking', () => {
  it('passes over a job no waiting worker can run', () => {
    const pending = [
      job({ id: 1, requiredTags: { os: 'windows' }, pendingSince: 1 }),
      job({ id: 2, requiredTags: { os: 'linux' }, pendingSince: 2 }),
      job({ id: 3, pendingSince: 3 }),
    ];
    const decisions = run(pending, [worker('w1', { tags: { os: 'linux' } }), worker('w2', { tags: { os: 'mac' } })]);
    expect(decisions.map((d) => [d.jobId, d.worker]).sort()).toEqual([
      [2, 'w1'],
      [3, 'w2'],
    ]);
  });

  it('never hands a job to a worker of another pool', () => {
    const decisions = run([job({ id: 1, pool: 'mac' })], [worker('w1', { pool: 'linux' })]);
    expect(decisions).toEqual([]);
  });

  it('decides within a bounded window even behind thousands of jobs nobody can run', () => {
    const pending = Array.from({ length: 5000 }, (_, i) =>
      job({ id: i + 1, pendingSince: i, requiredTags: { gpu: 'yes' } }),
    );
    pending.push(job({ id: 9999, pendingSince: 99_999 }));
    expect(run(pending, [worker('w1')]).map((d) => d.jobId)).toEqual([9999]);
  });
});

describe('coalescing', () => {
  const talos = (id: number, overrides: Partial<SchedulableJob> = {}) =>
    job({ id, builder: 'talos', pendingSince: id * MINUTE, coalesceLimit: 8, ...overrides });

  it('runs the newest and folds the older pending jobs of the builder and branch into it', () => {
    const pending = [1, 2, 3, 4, 5].map((id) => talos(id));
    const [decision] = run(pending, [worker('w1')]);
    expect(decision).toMatchObject({ jobId: 5, coalesced: [1, 2, 3, 4] });
    expect(decision?.why).toContain('4 coalesced');
  });

  it('folds at most limit − 1, the ones next to the newest, leaving a contiguous older range queued', () => {
    const pending = [1, 2, 3, 4, 5].map((id) => talos(id, { coalesceLimit: 3 }));
    const decisions = run(pending, [worker('w1', { idleSince: 1 }), worker('w2', { idleSince: 2 })]);
    expect(decisions).toMatchObject([
      { jobId: 5, coalesced: [3, 4] },
      { jobId: 2, coalesced: [1] },
    ]);
  });

  it('never folds an exact or retriggered job, other branches or other builders', () => {
    const pending = [
      talos(1, { coalesceLimit: null }),
      talos(2, { branch: 'try' }),
      job({ id: 3, builder: 'build', pendingSince: 3 * MINUTE, coalesceLimit: 8 }),
      talos(4),
      talos(5),
    ];
    const decisions = run(pending, [worker('w1', { idleSince: 1 })]);
    expect(decisions).toEqual([expect.objectContaining({ jobId: 1, coalesced: [] })]);
    const next = run(pending.slice(1), [worker('w1')]);
    expect(next).toEqual([expect.objectContaining({ jobId: 2, coalesced: [] })]);
    const third = run(pending.slice(3), [worker('w1')]);
    expect(third).toEqual([expect.objectContaining({ jobId: 5, coalesced: [4] })]);
  });

  it('runs a newer job known only as a coalescing target, but never picks one on its own', () => {
    const pending = [talos(1), talos(2), talos(9, { coalesceTargetOnly: true })];
    expect(run(pending, [worker('w1')])).toMatchObject([{ jobId: 9, coalesced: [1, 2] }]);
    const alone = [job({ id: 3, pendingSince: 1 }), talos(9, { coalesceTargetOnly: true })];
    expect(run(alone, [worker('w1', { idleSince: 1 }), worker('w2', { idleSince: 2 })])).toMatchObject([{ jobId: 3 }]);
  });

  it('does nothing when the policy turns coalescing off', () => {
    expect(run([talos(1), talos(2)], [worker('w1')], { coalescing: false })).toMatchObject([
      { jobId: 1, coalesced: [] },
    ]);
  });
});

describe('choosing the worker', () => {
  const warm = (builder: string, branch: string, at: number, repo = 'gecko') => ({ repo, builder, branch, at });

  it('gives a job to the worker that most recently succeeded on its builder and branch', () => {
    const idle = [
      worker('cold', { idleSince: 0 }),
      worker('repo-only', { idleSince: 1, warm: [warm('other', 'main', NOW - 1)] }),
      worker('builder-only', { idleSince: 2, warm: [warm('build', 'try', NOW - 1)] }),
      worker('old-exact', { idleSince: 3, warm: [warm('build', 'main', NOW - 60 * MINUTE)] }),
      worker('recent-exact', { idleSince: 4, warm: [warm('build', 'main', NOW - MINUTE)] }),
    ];
    const [decision] = run([job({ id: 1 })], idle);
    expect(decision?.worker).toBe('recent-exact');
    expect(decision?.why).toContain('warm: it last succeeded on build for main');
    expect(run([job({ id: 1 })], idle.slice(0, 3))[0]?.worker).toBe('builder-only');
    expect(run([job({ id: 1 })], idle.slice(0, 2))[0]?.worker).toBe('repo-only');
    expect(run([job({ id: 1 })], idle.slice(0, 1))[0]?.worker).toBe('cold');
  });

  it('weighs speed before recency among equally warm workers', () => {
    const idle = [
      worker('slow-recent', { speed: 1.6, warm: [warm('test', 'main', NOW - MINUTE)] }),
      worker('fast-older', { speed: 0.6, warm: [warm('test', 'main', NOW - 60 * MINUTE)] }),
    ];
    expect(run([job({ id: 1, builder: 'build', prefer: 'fast' })], idle)[0]?.worker).toBe('fast-older');
    expect(run([job({ id: 1, builder: 'build', prefer: 'any' })], idle)[0]?.worker).toBe('slow-recent');
  });

  it('lets one worker take a job it is warm for over a slightly more urgent one, within the band', () => {
    const pending = [
      job({ id: 1, builder: 'build', branch: 'main', pendingSince: NOW - 5 * MINUTE }),
      job({ id: 2, builder: 'build', branch: 'try', pendingSince: NOW - 1 * MINUTE }),
    ];
    const idle = [worker('w1', { warm: [warm('build', 'try', NOW - MINUTE)] })];
    expect(run(pending, idle)[0]?.jobId).toBe(2);
    // Strict order with no band; and a job far enough ahead is not passed.
    expect(run(pending, idle, { fitBand: 0 })[0]?.jobId).toBe(1);
    const farAhead = [{ ...(pending[0] as SchedulableJob), priority: 2 }, pending[1] as SchedulableJob];
    expect(run(farAhead, idle)[0]?.jobId).toBe(1);
  });

  it('sends builds to fast machines and work that prefers slow ones elsewhere', () => {
    const idle = [worker('slow', { speed: 1.4, idleSince: 0 }), worker('fast', { speed: 0.6, idleSince: 1 })];
    expect(run([job({ id: 1, prefer: 'fast' })], idle)[0]?.worker).toBe('fast');
    expect(run([job({ id: 1, prefer: 'slow' })], idle)[0]?.worker).toBe('slow');
    // 'any' ignores speed: the worker idle longest.
    expect(run([job({ id: 1, prefer: 'any' })], idle)[0]?.worker).toBe('slow');
    const both = run(
      [job({ id: 1, prefer: 'slow', pendingSince: 1 }), job({ id: 2, prefer: 'fast', pendingSince: 2 })],
      idle,
    );
    expect(Object.fromEntries(both.map((d) => [d.jobId, d.worker]))).toEqual({ 1: 'slow', 2: 'fast' });
  });

  it('keeps benched workers out until their bench ends', () => {
    const idle = [worker('benched', { benchedUntil: NOW + 1000, idleSince: 0 }), worker('healthy', { idleSince: 1 })];
    expect(run([job({ id: 1 })], idle)[0]?.worker).toBe('healthy');
    expect(run([job({ id: 1 })], idle.slice(0, 1))).toEqual([]);
    expect(run([job({ id: 1 })], [worker('back', { benchedUntil: NOW - 1 })])[0]?.worker).toBe('back');
    expect(run([job({ id: 1 })], idle.slice(0, 1), { health: false })[0]?.worker).toBe('benched');
  });

  it('chooses at random (from the policy source) when affinity is off', () => {
    const idle = [worker('a', { warm: [warm('build', 'main', NOW)] }), worker('b'), worker('c')];
    expect(run([job({ id: 1 })], idle, { affinity: false, random: () => 0.99 })[0]?.worker).toBe('c');
    expect(run([job({ id: 1 })], idle, { affinity: false, random: () => 0.4 })[0]?.worker).toBe('b');
  });

  it('hands out every job when there are enough workers, each worker once', () => {
    const pending = Array.from({ length: 30 }, (_, i) => job({ id: i + 1, pendingSince: i }));
    const idle = Array.from({ length: 20 }, (_, i) => worker(`w${i}`, { idleSince: i }));
    const decisions = run(pending, idle);
    expect(decisions).toHaveLength(20);
    expect(new Set(decisions.map((d) => d.worker)).size).toBe(20);
    expect(decisions.map((d) => d.jobId).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
