import { useCallback, useRef, useState } from 'react';
import { api } from '../app/api.ts';
import type { LiveLines } from './live-lines.ts';

/** Lines are fetched in blocks of this many: a screenful and its neighbours in one or two requests. */
export const BLOCK_LINES = 500;

/**
 * The text of a log's lines: those a followed log sent (`live`, its end), else fetched by block as
 * rows come into view and kept for the page's life.
 */
export function useLogLines(jobId: number, attempt: number, live: LiveLines) {
  const blocks = useRef(new Map<number, string[]>());
  const loading = useRef(new Set<number>());
  const [, setVersion] = useState(0);

  const line = useCallback(
    (n: number): string | undefined => {
      const sent = live.line(n);
      if (sent !== undefined) return sent;
      const block = blocks.current.get(Math.floor((n - 1) / BLOCK_LINES));
      return block?.[(n - 1) % BLOCK_LINES];
    },
    [live],
  );

  const load = useCallback(
    (lines: readonly number[]) => {
      const wanted = new Set(lines.map((n) => Math.floor((n - 1) / BLOCK_LINES)));
      for (const block of wanted) {
        const from = block * BLOCK_LINES + 1;
        if (blocks.current.has(block) || loading.current.has(block) || live.holdsFrom(from)) continue;
        loading.current.add(block);
        api()
          .logLines(jobId, { attempt, from, to: from + BLOCK_LINES - 1 })
          .then((answer) => {
            blocks.current.set(block, answer.lines);
            setVersion((v) => v + 1);
          })
          .finally(() => loading.current.delete(block));
      }
    },
    [jobId, attempt, live],
  );

  return { line, load };
}
