import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** A .cpuprofile as Chrome DevTools and speedscope read it. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Checks that the file is a valid CPU profile (a tree of nodes, every sample one of them) and returns it. */
export function readCpuProfile(file: string): CpuProfile {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  expect(profile.nodes.length).toBeGreaterThan(0);
  expect(profile.samples.length).toBeGreaterThan(0);
  expect(profile.timeDeltas).toHaveLength(profile.samples.length);
  expect(profile.endTime).toBeGreaterThan(profile.startTime);
  const ids = new Set(profile.nodes.map((node) => node.id));
  expect(profile.samples.every((id) => ids.has(id))).toBe(true);
  expect(profile.nodes.every((node) => (node.children ?? []).every((child) => ids.has(child)))).toBe(true);
  return profile;
}

/**
 * The named functions of the profile whose source is under `sources` (e.g.
 * `/packages/coordinator/src/`). A server run from its sources names them in its call frames; one
 * run from the build (packages/cli/dist) names a bundle, which its source maps lead back.
 */
export function functionsOf(profile: CpuProfile, sources: string): string[] {
  const maps = new Map<string, { map: SourceMap; dir: string } | null>();
  const sourceOf = (frame: CpuProfile['nodes'][number]['callFrame']): string => {
    if (frame.url.includes(sources) || !frame.url.startsWith('file:')) return frame.url;
    if (!maps.has(frame.url)) {
      const file = fileURLToPath(frame.url);
      const payload = existsSync(`${file}.map`) ? JSON.parse(readFileSync(`${file}.map`, 'utf8')) : null;
      maps.set(frame.url, payload && { map: new SourceMap(payload), dir: dirname(file) });
    }
    const mapped = maps.get(frame.url);
    const entry = mapped?.map.findEntry(frame.lineNumber, frame.columnNumber) as
      | { originalSource?: string }
      | undefined;
    return mapped && entry?.originalSource ? resolve(mapped.dir, entry.originalSource) : frame.url;
  };
  const named = profile.nodes.filter(
    (node) => node.callFrame.functionName && sourceOf(node.callFrame).includes(sources),
  );
  return [...new Set(named.map((node) => node.callFrame.functionName))];
}

/** Checks that the file is a heap snapshot Chrome DevTools reads and returns its strings. */
export function readHeapSnapshot(file: string): string[] {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[] }; node_count: number };
    nodes: number[];
    strings: string[];
  };
  expect(snapshot.snapshot.meta.node_fields).toContain('name');
  expect(snapshot.nodes.length).toBe(snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length);
  return snapshot.strings;
}
