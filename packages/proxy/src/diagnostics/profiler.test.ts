import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { Profiler } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuProfileJson, ProfilerBusyError, reserveProfiler, takeCpuProfile, takeHeapSnapshot } from './profiler.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-profiler-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Keeps the CPU busy in a function of its own until the signal says stop, yielding now and then. */
async function spinInNamedFunction(signal: AbortSignal): Promise<number> {
  let sum = 0;
  while (!signal.aborted) {
    for (let i = 0; i < 200_000; i++) sum += Math.sqrt(i);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sum;
}

describe('the profiler', () => {
  it('takes one capture at a time per process', () => {
    const release = reserveProfiler('CPU profile');
    expect(() => reserveProfiler('heap snapshot')).toThrow(ProfilerBusyError);
    release();
    release();
    const again = reserveProfiler('heap snapshot');
    again();
  });

  it('samples the stacks of this process into a profile naming its functions', async () => {
    const spinning = new AbortController();
    const work = spinInNamedFunction(spinning.signal);
    const profile = await takeCpuProfile(1, new AbortController().signal);
    spinning.abort();
    await work;
    expect(profile).not.toBeNull();
    const { nodes, samples, timeDeltas } = profile as Profiler.Profile;
    expect(samples?.length).toBeGreaterThan(0);
    expect(timeDeltas).toHaveLength(samples?.length as number);
    expect(nodes.map((node) => node.callFrame.functionName)).toContain('spinInNamedFunction');
    // Every sample names a node of the tree.
    const ids = new Set(nodes.map((node) => node.id));
    expect(samples?.every((id) => ids.has(id))).toBe(true);
  });

  it('stops at once when asked, with no profile', async () => {
    const stop = new AbortController();
    const profile = takeCpuProfile(300, stop.signal);
    stop.abort();
    expect(await profile).toBeNull();
  });

  it('writes the profile as the same JSON, a batch at a time', async () => {
    const nodes = Array.from({ length: 4500 }, (_, i) => ({
      id: i + 1,
      callFrame: { functionName: `f${i}`, scriptId: '1', url: 'file:///x.js', lineNumber: i, columnNumber: 0 },
      hitCount: i % 3,
      children: i + 2 <= 4500 ? [i + 2] : [],
    }));
    const profile: Profiler.Profile = {
      nodes,
      startTime: 10,
      endTime: 20,
      samples: Array.from({ length: 5001 }, (_, i) => (i % 4500) + 1),
      timeDeltas: Array.from({ length: 5001 }, (_, i) => i % 7),
    };
    let json = '';
    for await (const chunk of cpuProfileJson(profile)) json += chunk;
    expect(JSON.parse(json)).toEqual(profile);
  });

  it('writes an empty profile as valid JSON', async () => {
    let json = '';
    for await (const chunk of cpuProfileJson({ nodes: [], startTime: 1, endTime: 2, samples: [], timeDeltas: [] })) {
      json += chunk;
    }
    expect(JSON.parse(json)).toEqual({ nodes: [], startTime: 1, endTime: 2, samples: [], timeDeltas: [] });
  });

  it('takes a heap snapshot through a file nobody else sees', { timeout: 120_000 }, async () => {
    const snapshot = await takeHeapSnapshot(dir);
    expect(readdirSync(dir)).toEqual([]);
    const body = await text(snapshot.body);
    expect(Buffer.byteLength(body)).toBe(snapshot.size);
    const parsed = JSON.parse(body) as { snapshot: { meta: { node_fields: string[] }; node_count: number } };
    expect(parsed.snapshot.meta.node_fields).toContain('name');
    expect(parsed.snapshot.node_count).toBeGreaterThan(0);
  });
});
