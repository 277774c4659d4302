import type { SwitchyardEvent } from '@switchyard/protocol/browser';
import { type Query, type QueryClient, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react';
import { api } from '../app/api.ts';
import { applyEvents, keepNewest, type PushListData, type PushListFilter, readBefore } from './apply-events.ts';
import { notifyWatched } from './watched-pushes.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';
type Listener = (events: readonly SwitchyardEvent[]) => void;

interface LiveEvents {
  status: LiveStatus;
  /** Called with each batch of events, in order; returns the unsubscribe. */
  subscribe(listener: Listener): () => void;
}

/**
 * Events are applied in batches at most this often: at 2,000 events a second the page re-renders
 * ten times a second, not two thousand (bench/dashboard.ts measures what that costs).
 */
const BATCH_MS = 100;
/** A list kept open for hours on a busy farm stops growing here; older pushes are a click away. */
const MAX_LISTED_PUSHES = 1000;

const LiveEventsContext = createContext<LiveEvents>({ status: 'connecting', subscribe: () => () => undefined });

/**
 * One event stream for the whole page: the client reconnects by itself and resumes after the
 * last event it saw, so a dropped connection loses nothing. Every cached list of pushes is
 * brought up to date from the events themselves; other views subscribe and refetch what they show.
 */
export function LiveEventsProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const listeners = useRef(new Set<Listener>());
  const value = useRef<LiveEvents>({
    status,
    subscribe: (listener) => {
      listeners.current.add(listener);
      return () => listeners.current.delete(listener);
    },
  });

  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    let batch: SwitchyardEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    let everLive = false;
    const flush = () => {
      timer = null;
      const events = batch;
      batch = [];
      applyToPushLists(queryClient, events);
      notifyWatched(events);
      for (const listener of listeners.current) listener(events);
    };
    const onConnection = (state: 'live' | 'reconnecting', cursor?: number) => {
      setStatus(state);
      // What was read before the stream started may miss what happened in between: read that
      // once more (what arrived since is newer than the stream's start). A resumed stream
      // replays its own gap.
      if (state === 'live' && !everLive) {
        everLive = true;
        const liveAt = Date.now();
        void queryClient.invalidateQueries({ predicate: (query) => missedEvents(query, liveAt, cursor) });
      }
    };
    void (async () => {
      for await (const event of api().events({ signal: abort.signal, onConnection })) {
        batch.push(event);
        timer ??= setTimeout(flush, BATCH_MS);
      }
    })().catch(() => setStatus('reconnecting'));
    return () => {
      abort.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [enabled, queryClient]);

  value.current = { ...value.current, status };
  return <LiveEventsContext.Provider value={value.current}>{children}</LiveEventsContext.Provider>;
}

export function useLiveStatus(): LiveStatus {
  return useContext(LiveEventsContext).status;
}

/** Runs `onEvents` for each batch of events while the component is mounted. */
export function useLiveEvents(onEvents: Listener): void {
  const { subscribe } = useContext(LiveEventsContext);
  const latest = useRef(onEvents);
  latest.current = onEvents;
  useEffect(() => subscribe((events) => latest.current(events)), [subscribe]);
}

/**
 * Whether what a query read may lack changes the event stream, starting at `cursor`, will not
 * bring: read before the stream started, unless it says it does not follow events (the session,
 * a log that follows itself) or it is a list of pushes read at or after the stream's start.
 */
function missedEvents(query: Query, liveAt: number, cursor: number | undefined): boolean {
  if (query.meta?.independentOfEvents === true || query.state.dataUpdatedAt >= liveAt) return false;
  return query.queryKey[0] !== 'pushes' || readBefore(query.state.data as PushListData | undefined, cursor);
}

function applyToPushLists(queryClient: QueryClient, events: readonly SwitchyardEvent[]): void {
  for (const [key, data] of queryClient.getQueriesData<PushListData>({ queryKey: ['pushes'] })) {
    if (!data) continue;
    const filter = (key[1] ?? {}) as PushListFilter;
    const updated = applyEvents(data, events, filter);
    if (updated !== data) queryClient.setQueryData(key, keepNewest(updated, MAX_LISTED_PUSHES));
  }
}
