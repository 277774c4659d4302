import { PUSH_RESULTS, type Push } from '@switchyard/protocol/browser';
import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useWindowVirtualizer, type Virtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { api } from '../app/api.ts';
import type { PushesSearch } from '../app/search-params.ts';
import { typingIn } from '../app/shortcuts.tsx';
import { matchesFilter, type PushListData, type PushListFilter } from '../live/apply-events.ts';
import { PushRow } from './push-row.tsx';

/** Pushes read at first, a few screens' worth. */
const PAGE = 50;

/** The pushes the page shows for a filter; main.tsx asks for it before the page is drawn. */
export function pushesQuery(filter: PushListFilter) {
  return queryOptions({
    queryKey: ['pushes', filter],
    queryFn: (): Promise<PushListData> => api().listPushPage({ ...filter, limit: PAGE }),
    staleTime: Number.POSITIVE_INFINITY,
    // The events keep every unchanged push the same object (applyEvents): comparing the whole
    // list with the last one, ten times a second on a busy farm, would find nothing more.
    structuralSharing: false,
  });
}

/** The filter of the pushes page in the URL's search parameters. */
export function pushesFilter(search: PushesSearch): PushListFilter {
  const { repo, branch, author, revision, result } = search;
  return { repo, branch, author, revision, result };
}
/** "Older pushes" reads this many more. */
const OLDER = 100;

/**
 * The home page: one row per push, newest first, kept current by the event stream. The server
 * filters (by repo, branch, author, revision and result) and pages; the page re-checks the result
 * of the pushes it holds, since results change as their jobs run.
 */
export function PushesPage() {
  const search = useSearch({ from: '/' });
  const navigate = useNavigate({ from: '/' });
  const queryClient = useQueryClient();
  const { repo, branch, author, revision, result } = search;
  const filter = useMemo(
    () => pushesFilter({ repo, branch, author, revision, result }),
    [repo, branch, author, revision, result],
  );
  const pushes = useQuery(pushesQuery(filter));
  const [readingOlder, setReadingOlder] = useState(false);
  const readOlder = async (next: number) => {
    setReadingOlder(true);
    try {
      const page = await api().listPushPage({ ...filter, limit: OLDER, before: next });
      queryClient.setQueryData<PushListData>(['pushes', filter], (data) =>
        data && data.next === next ? { ...data, pushes: [...data.pushes, ...page.pushes], next: page.next } : data,
      );
    } finally {
      setReadingOlder(false);
    }
  };
  const shown = useMemo(
    () => (pushes.data?.pushes ?? []).filter((push) => matchesFilter(push, filter)),
    [pushes.data, filter],
  );
  useRowKeys(shown, search.push);

  const virtualizer = useWindowVirtualizer({
    count: shown.length,
    estimateSize: () => ROW_PX,
    overscan: 6,
    getItemKey: (index) => (shown[index] as Push).id,
    measureElement: measureRow,
  });

  const next = pushes.data?.next ?? null;
  return (
    <section>
      <Filters search={search} onChange={(change) => navigate({ search: change })} />
      {pushes.isPending && <p className="muted">Loading pushes…</p>}
      {pushes.isError && <p className="problem">{String(pushes.error)}</p>}
      {pushes.data && shown.length === 0 && <p className="muted">No pushes match.</p>}
      <div className="push-list" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const push = shown[item.index] as Push;
          return (
            <div
              key={item.key}
              data-index={item.index}
              ref={virtualizer.measureElement}
              style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
            >
              <PushRow push={push} open={search.push === push.id} />
            </div>
          );
        })}
      </div>
      {next !== null && (
        <button type="button" className="more" disabled={readingOlder} onClick={() => void readOlder(next)}>
          Older pushes
        </button>
      )}
    </section>
  );
}

/** A row's height before it is measured: one line of details and one of symbols. */
const ROW_PX = 88;

/**
 * A row's height from its ResizeObserver entry, which comes once the browser has laid the row
 * out anyway. The virtualizer's default reads offsetHeight as each row mounts, a layout forced
 * per row: with pushes arriving many times a second at the top of the list, that layout was
 * the page's biggest cost (bench/dashboard.ts). Until then a row counts as its size last
 * measured, or the estimate.
 */
function measureRow(
  element: Element,
  entry: ResizeObserverEntry | undefined,
  virtualizer: Virtualizer<Window, Element>,
): number {
  const box = entry?.borderBoxSize?.[0];
  if (box) return Math.round(box.blockSize);
  const index = virtualizer.indexFromElement(element);
  return virtualizer.itemSizeCache.get(virtualizer.options.getItemKey(index)) ?? ROW_PX;
}

/** j and k move the open summary to the next and previous push. */
function useRowKeys(shown: readonly Push[], open: number | undefined): void {
  const navigate = useNavigate({ from: '/' });
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (typingIn(event.target) || (event.key !== 'j' && event.key !== 'k')) return;
      const at = shown.findIndex((push) => push.id === open);
      const next = shown[event.key === 'j' ? at + 1 : Math.max(at - 1, 0)];
      if (!next) return;
      void navigate({ search: (prev) => ({ ...prev, push: next.id }) });
      document.querySelector(`[data-push-id="${next.id}"]`)?.scrollIntoView({ block: 'nearest' });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [shown, open, navigate]);
}

const RESULTS = ['', ...PUSH_RESULTS] as const;

function Filters({ search, onChange }: { search: PushesSearch; onChange: (next: PushesSearch) => void }) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const value = (name: string) => {
      const v = String(form.get(name) ?? '').trim();
      return v === '' ? undefined : v;
    };
    onChange({
      repo: value('repo'),
      branch: value('branch'),
      author: value('author'),
      revision: value('revision'),
      result: PUSH_RESULTS.find((r) => r === value('result')),
    });
  };
  // Remount on a URL change so the fields show the filter in force (back button, shared link).
  const key = JSON.stringify(search);
  return (
    <form className="filters" onSubmit={submit} key={key}>
      <input name="repo" placeholder="repo" defaultValue={search.repo} aria-label="repo" />
      <input name="branch" placeholder="branch" defaultValue={search.branch} aria-label="branch" />
      <input
        name="author"
        placeholder="author"
        defaultValue={search.author}
        aria-label="author"
        data-shortcut="search"
      />
      <input
        name="revision"
        placeholder="revision"
        defaultValue={search.revision}
        aria-label="revision"
        pattern="[0-9a-fA-F]+"
        title="the start of a revision, in hex"
      />
      <select
        name="result"
        defaultValue={search.result ?? ''}
        aria-label="result"
        onChange={(e) => e.currentTarget.form?.requestSubmit()}
      >
        {RESULTS.map((r) => (
          <option key={r} value={r}>
            {r === '' ? 'any result' : r}
          </option>
        ))}
      </select>
      <button type="submit">Filter</button>
    </form>
  );
}
