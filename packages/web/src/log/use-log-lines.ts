import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../app/api.ts';

/** Lines are fetched in blocks of this many: a screenful and its neighbours in one or two requests. */
export const BLOCK_LINES = 500;

/**
 * The text of a log's lines, fetched by block as rows come into view and kept for the page's
 * life. While the log grows, its last block is fetched again when more lines arrive.
 */
export function useLogLines(jobId: number, attempt: number, lineCount: number) {
  const blocks = useRef(new Map<number, string[]>());
  const loading = useRef(new Set<number>());
  const [, setVersion] = useState(0);
  const previousCount = useRef(lineCount);

  useEffect(() => {
    if (lineCount === previousCount.current) return;
    // The block that held the old last line may have been partial: read it again.
    if (previousCount.current > 0) blocks.current.delete(Math.floor((previousCount.current - 1) / BLOCK_LINES));
    previousCount.current = lineCount;
    setVersion((v) => v + 1);
  }, [lineCount]);

  const line = useCallback((n: number): string | undefined => {
    const block = blocks.current.get(Math.floor((n - 1) / BLOCK_LINES));
    return block?.[(n - 1) % BLOCK_LINES];
  }, []);

  const load = useCallback(
    (lines: readonly number[]) => {
      const wanted = new Set(lines.map((n) => Math.floor((n - 1) / BLOCK_LINES)));
      for (const block of wanted) {
        if (blocks.current.has(block) || loading.current.has(block)) continue;
        loading.current.add(block);
        const from = block * BLOCK_LINES + 1;
        api()
          .logLines(jobId, { attempt, from, to: from + BLOCK_LINES - 1 })
          .then((answer) => {
            blocks.current.set(block, answer.lines);
            setVersion((v) => v + 1);
          })
          .finally(() => loading.current.delete(block));
      }
    },
    [jobId, attempt],
  );

  return { line, load };
}
