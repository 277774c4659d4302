import { JOB_STATES, type Push } from '@switchyard/protocol/browser';
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { api } from '../app/api.ts';
import type { PushesSearch } from '../app/search-params.ts';
import { typingIn } from '../app/shortcuts.tsx';
import { PushRow } from './push-row.tsx';
import { pushResult } from './symbols.ts';

/** Pushes read at first, a few screens' worth; "older" reads twice this many more. */
const PAGE = 50;
/** The most one request returns. */
const MAX_READ = 500;

/** The home page: one row per push, newest first, kept current by the event stream. */
export function PushesPage() {
  const search = useSearch({ from: '/' });
  const navigate = useNavigate({ from: '/' });
  const [limit, setLimit] = useState(PAGE);
  const filter = { repo: search.repo, branch: search.branch };
  // Author, revision and result are matched here, over the pushes read: read as many as the API
  // gives at once while one of them is set.
  const narrowed = search.author !== undefined || search.revision !== undefined || search.result !== undefined;
  const read = narrowed ? MAX_READ : limit;
  const pushes = useQuery({
    queryKey: ['pushes', filter, read],
    queryFn: (): Promise<readonly Push[]> => api().listPushes({ ...filter, limit: read }),
    staleTime: Number.POSITIVE_INFINITY,
  });
  const shown = useMemo(() => (pushes.data ?? []).filter((push) => matches(push, search)), [pushes.data, search]);
  useRowKeys(shown, search.push);

  const virtualizer = useWindowVirtualizer({
    count: shown.length,
    estimateSize: () => 88,
    overscan: 6,
    getItemKey: (index) => (shown[index] as Push).id,
  });

  return (
    <section>
      <Filters search={search} onChange={(next) => navigate({ search: next })} />
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
      {pushes.data && pushes.data.length >= read && read < MAX_READ && (
        <button type="button" className="more" onClick={() => setLimit((n) => Math.min(n + 2 * PAGE, MAX_READ))}>
          Older pushes
        </button>
      )}
    </section>
  );
}

function matches(push: Push, search: PushesSearch): boolean {
  if (search.author && !push.author.toLowerCase().includes(search.author.toLowerCase())) return false;
  if (search.revision && !push.revision.startsWith(search.revision.toLowerCase())) return false;
  if (search.result && pushResult(push.jobs) !== search.result) return false;
  return true;
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

const RESULTS = ['', ...JOB_STATES] as const;

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
      result: value('result'),
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
      <input name="revision" placeholder="revision" defaultValue={search.revision} aria-label="revision" />
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
