import type { LogIndex } from '@switchyard/protocol/browser';
import { queryOptions } from '@tanstack/react-query';
import { api } from '../app/api.ts';

/**
 * A job's log index (the latest attempt's, or `attempt`'s). main.tsx asks for it as the page
 * starts, so the coordinator builds it (a second for a million lines) while the viewer's code loads.
 */
export function logIndexQuery(jobId: number, attempt: number | undefined) {
  return queryOptions({
    queryKey: ['log-index', jobId, attempt ?? null],
    queryFn: (): Promise<LogIndex> => api().logIndex(jobId, attempt === undefined ? {} : { attempt }),
    // The page reading what main.tsx asked for a moment before reads nothing again; a log opened
    // again later is read again (its job may have had another attempt since).
    staleTime: 10_000,
    // Its follower brings it up to date; the event stream's catch-up need not read it again.
    meta: { independentOfEvents: true },
  });
}
