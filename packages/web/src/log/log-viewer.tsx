import type { LogIndex, LogSection } from '@switchyard/protocol/browser';
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type CSSProperties, type FormEvent, memo, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../app/api.ts';
import { formatDuration } from '../app/format.ts';
import { typingIn } from '../app/shortcuts.tsx';
import { ansiToHtml } from './ansi.ts';
import { extendRange, formatLineHash, type LineRange, parseLineHash } from './line-range.ts';
import type { LiveLines } from './live-lines.ts';
import { LogRows, PAGE_LINES, pageCount, pageOfLine } from './log-rows.ts';
import { useLogLines } from './use-log-lines.ts';

/** One line of text: fixed, so a million rows are a multiplication away, not a measurement. */
const ROW_PX = 18;

interface Props {
  jobId: number;
  attempt: number;
  index: LogIndex;
  /** The lines a followed (running) log has sent so far. */
  live: LiveLines;
}

/**
 * A job's log: numbered lines read by range from the server, passed steps folded, error lines
 * marked with n/p between them, `#L120-L140` links, search on the server, ANSI colours, and a
 * running log followed as it grows. Opens at the range in the URL, else the first error, else
 * (running) the end.
 */
export function LogViewer({ jobId, attempt, index, live }: Props) {
  const [range, setRange] = useState<LineRange | null>(() => parseLineHash(window.location.hash));
  const [focus, setFocus] = useState<number | null>(() => initialFocus(index, range));
  const [expanded, setExpanded] = useState(() => new Map<number, boolean>());
  const [pageIndex, setPageIndex] = useState(() => pageOfLine(focus ?? 1, index.lineCount).index);
  const following = useRef(!index.complete && focus === null);
  /** A line to bring into view once the rows that show it exist. */
  const pendingScroll = useRef<number | null>(focus);
  const scroller = useRef<HTMLDivElement>(null);
  const { line, load } = useLogLines(jobId, attempt, live);
  const search = useLogSearch(jobId, attempt);
  const hits = useMemo(() => new Set(search.hits), [search.hits]);
  const errorLines = useMemo(() => new Set(index.errors.map((e) => e.line)), [index.errors]);

  const page = useMemo(() => pageOfLine(pageIndex * PAGE_LINES + 1, index.lineCount), [pageIndex, index.lineCount]);
  const rows = useMemo(() => {
    // Passed steps fold; when every step passed, the last stays open (Buildkite's rule), so a
    // green log still shows its end.
    const allPassed = index.sections.every((s) => s.state === 'success');
    const last = index.sections.at(-1);
    const isExpanded = (section: LogSection) =>
      expanded.get(section.step) ??
      (section.state !== 'success' ||
        (allPassed && section === last) ||
        contains(section, focus) ||
        contains(section, range?.from ?? null));
    return new LogRows(index.sections, index.lineCount, page, isExpanded);
  }, [index.sections, index.lineCount, page, expanded, focus, range]);

  const virtualizer = useVirtualizer({
    count: rows.rowCount,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_PX,
    overscan: 30,
  });
  const items = virtualizer.getVirtualItems();

  const visibleLines = items.flatMap((item) => {
    const row = rows.rowAt(item.index);
    return row.kind === 'line' ? [row.line] : [];
  });
  const visibleKey = `${visibleLines[0]}-${visibleLines.at(-1)}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the visible range is what changes; its lines follow from it
  useEffect(() => load(visibleLines), [visibleKey, load, index.lineCount]);

  /** Shows a line: its page, its section unfolded, scrolled to the middle of the view. */
  const reveal = (target: number) => {
    following.current = false;
    pendingScroll.current = target;
    setFocus(target);
    setPageIndex(pageOfLine(target, index.lineCount).index);
  };
  useEffect(() => {
    if (pendingScroll.current === null) return;
    const row = rows.rowOfLine(pendingScroll.current);
    if (row === null) return;
    pendingScroll.current = null;
    virtualizer.scrollToIndex(row, { align: 'center' });
  }, [rows, virtualizer]);

  // A running log: stay at the end while the user has not scrolled away from it.
  useEffect(() => {
    if (!following.current || rows.rowCount === 0) return;
    const lastPage = pageCount(index.lineCount) - 1;
    if (pageIndex !== lastPage) setPageIndex(lastPage);
    else virtualizer.scrollToIndex(rows.rowCount - 1, { align: 'end' });
  }, [rows, index.lineCount, pageIndex, virtualizer]);
  const onScroll = () => {
    const element = scroller.current;
    if (!element || index.complete) return;
    following.current = element.scrollTop + element.clientHeight >= element.scrollHeight - 2 * ROW_PX;
  };

  const errors = index.errors;
  const step = (direction: 1 | -1) => {
    if (errors.length === 0) return;
    const from = focus ?? (direction === 1 ? 0 : Number.POSITIVE_INFINITY);
    const next =
      direction === 1
        ? (errors.find((e) => e.line > from) ?? errors[0])
        : (errors.findLast((e) => e.line < from) ?? errors.at(-1));
    if (!next) return;
    const selected = { from: next.line, to: next.line };
    setRange(selected);
    history.replaceState(history.state, '', formatLineHash(selected));
    reveal(next.line);
  };
  const stepRef = useRef(step);
  stepRef.current = step;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (typingIn(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'n') stepRef.current(1);
      else if (event.key === 'p') stepRef.current(-1);
    };
    const onHash = () => {
      const linked = parseLineHash(window.location.hash);
      if (!linked) return;
      setRange(linked);
      reveal(linked.from);
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('hashchange', onHash);
    };
  });

  const selectLine = (target: number, extend: boolean) => {
    const selected = extendRange(range, target, extend);
    setRange(selected);
    setFocus(target);
    following.current = false;
    history.replaceState(history.state, '', formatLineHash(selected));
  };
  const toggle = (section: LogSection, open: boolean) =>
    setExpanded((previous) => new Map(previous).set(section.step, !open));

  const pages = pageCount(index.lineCount);
  const currentError = errors.findIndex((e) => e.line === focus);
  return (
    <div className="log-viewer" data-testid="log-viewer" data-line-count={index.lineCount}>
      <div className="log-tools">
        <span>
          {index.lineCount.toLocaleString()} lines · {errors.length}
          {index.errorsTruncated ? '+' : ''} error lines
        </span>
        <button type="button" onClick={() => step(-1)} disabled={errors.length === 0} title="previous error (p)">
          ◂ p
        </button>
        <span data-testid="error-position">
          {currentError >= 0 ? `error ${currentError + 1} of ${errors.length}` : ''}
        </span>
        <button type="button" onClick={() => step(1)} disabled={errors.length === 0} title="next error (n)">
          n ▸
        </button>
        <SearchBox search={search} onHit={reveal} />
        <GoToLine
          lineCount={index.lineCount}
          onGo={(n) => {
            selectLine(n, false);
            reveal(n);
          }}
        />
        {pages > 1 && (
          <span className="pages" data-testid="log-pages">
            <button type="button" disabled={pageIndex === 0} onClick={() => setPageIndex(pageIndex - 1)}>
              ◂
            </button>
            lines {page.first.toLocaleString()}–{page.last.toLocaleString()}
            <button type="button" disabled={pageIndex >= pages - 1} onClick={() => setPageIndex(pageIndex + 1)}>
              ▸
            </button>
          </span>
        )}
      </div>
      <div className="log-scroll" ref={scroller} onScroll={onScroll} data-testid="log-scroll">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative', minWidth: '100%' }}>
          {items.map((item) => {
            const row = rows.rowAt(item.index);
            const style = { transform: `translateY(${item.start}px)` };
            if (row.kind === 'section') {
              return (
                <SectionRow
                  key={`s${row.section.step}`}
                  section={row.section}
                  expanded={row.expanded}
                  style={style}
                  onToggle={toggle}
                />
              );
            }
            const n = row.line;
            return (
              <LineRow
                key={n}
                n={n}
                text={line(n)}
                style={style}
                selected={range !== null && n >= range.from && n <= range.to}
                current={n === focus}
                error={errorLines.has(n)}
                hit={hits.has(n)}
                onSelect={selectLine}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

function initialFocus(index: LogIndex, range: LineRange | null): number | null {
  if (range) return range.from;
  if (index.complete && index.errors.length > 0) return (index.errors[0] as { line: number }).line;
  return null;
}

function contains(section: LogSection, line: number | null): boolean {
  return line !== null && line >= section.firstLine && line < section.firstLine + section.lineCount;
}

const SectionRow = memo(function SectionRow(props: {
  section: LogSection;
  expanded: boolean;
  style: CSSProperties;
  onToggle: (section: LogSection, open: boolean) => void;
}) {
  const { section, expanded, style, onToggle } = props;
  return (
    <button
      type="button"
      className={`log-row section state-text-${section.state}`}
      style={style}
      aria-expanded={expanded}
      data-step={section.step}
      onClick={() => onToggle(section, expanded)}
    >
      {expanded ? '▾' : '▸'} {section.name} · {section.state}
      {section.exitCode !== null && section.exitCode !== 0 ? ` (exit ${section.exitCode})` : ''} ·{' '}
      {formatDuration(section.durationMs)} · {section.lineCount.toLocaleString()} lines
    </button>
  );
});

const LineRow = memo(function LineRow(props: {
  n: number;
  text: string | undefined;
  style: CSSProperties;
  selected: boolean;
  current: boolean;
  error: boolean;
  hit: boolean;
  onSelect: (line: number, extend: boolean) => void;
}) {
  const { n, text, style, selected, current, error, hit, onSelect } = props;
  const classes = ['log-row', 'line'];
  if (selected) classes.push('selected');
  if (error) classes.push('error');
  if (hit) classes.push('hit');
  return (
    <div className={classes.join(' ')} style={style} data-line={n} data-current={current || undefined}>
      <a
        className="ln"
        href={`#L${n}`}
        onClick={(event) => {
          event.preventDefault();
          onSelect(n, event.shiftKey);
        }}
      >
        {n}
      </a>
      {text === undefined ? (
        <span className="text loading"> </span>
      ) : (
        // biome-ignore lint/security/noDangerouslySetInnerHtml: ansiToHtml escapes the text; only its own spans are markup
        <span className="text" dangerouslySetInnerHTML={{ __html: ansiToHtml(text) }} />
      )}
    </div>
  );
});

/** Search runs on the server over the whole log and returns every matching line. */
function useLogSearch(jobId: number, attempt: number) {
  const { q } = useSearch({ from: '/jobs/$jobId/log' });
  const navigate = useNavigate({ from: '/jobs/$jobId/log' });
  const answer = useQuery({
    queryKey: ['log-search', jobId, attempt, q],
    queryFn: () => api().searchLog(jobId, { q: q as string, attempt }),
    enabled: q !== undefined,
  });
  return {
    q,
    hits: answer.data?.lines ?? [],
    truncated: answer.data?.truncated ?? false,
    pending: answer.isFetching,
    set: (next: string) =>
      navigate({ search: (prev) => ({ ...prev, q: next === '' ? undefined : next }), hash: (h) => h ?? '' }),
  };
}

function SearchBox({ search, onHit }: { search: ReturnType<typeof useLogSearch>; onHit: (line: number) => void }) {
  const [at, setAt] = useState(-1);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get('q') ?? '').trim();
    if (value !== (search.q ?? '')) {
      setAt(-1);
      void search.set(value);
      return;
    }
    if (search.hits.length === 0) return;
    const next = (at + 1) % search.hits.length;
    setAt(next);
    onHit(search.hits[next] as number);
  };
  return (
    <form className="log-search" onSubmit={submit}>
      <input
        name="q"
        defaultValue={search.q}
        placeholder="search the whole log"
        aria-label="search the log"
        data-shortcut="search"
      />
      <span data-testid="search-hits" className="muted">
        {search.q === undefined
          ? ''
          : search.pending
            ? 'searching…'
            : `${at >= 0 ? `${at + 1} of ` : ''}${search.hits.length}${search.truncated ? '+' : ''} hits`}
      </span>
    </form>
  );
}

function GoToLine({ lineCount, onGo }: { lineCount: number; onGo: (line: number) => void }) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = Number(new FormData(event.currentTarget).get('line'));
    if (Number.isInteger(value) && value >= 1) onGo(Math.min(value, lineCount));
  };
  return (
    <form className="go-to" onSubmit={submit}>
      <input name="line" type="number" min={1} max={lineCount} placeholder="line" aria-label="go to line" />
      <button type="button" onClick={() => onGo(lineCount)} title="the last line">
        end
      </button>
    </form>
  );
}
