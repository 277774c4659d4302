import { type Push, pushResultOf } from '@switchyard/protocol/browser';
import { Link } from '@tanstack/react-router';
import { memo, useState } from 'react';
import { authorName, formatAge, shortRevision } from '../app/format.ts';
import { toggleWatch, watchedPushes } from '../live/watched-pushes.ts';
import { JobSymbol } from './job-symbol.tsx';
import { PushSummaryPanel } from './push-summary.tsx';
import { groupByBuilder } from './symbols.ts';

/** One push: who, what, when, its result, and its jobs as symbols grouped by builder. */
export const PushRow = memo(function PushRow({ push, open }: { push: Push; open: boolean }) {
  const result = pushResultOf(push.jobs);
  const [watched, setWatched] = useState(() => watchedPushes().has(push.id));
  return (
    <article className={`push result-${result}`} data-push-id={push.id} data-result={result}>
      <div className="push-head">
        <Link
          to="/"
          search={(prev) => ({ ...prev, push: open ? undefined : push.id })}
          className="revision"
          title={push.message || push.revision}
          aria-expanded={open}
        >
          {shortRevision(push.revision)}
        </Link>
        <span className="branch">
          {push.repo}/{push.branch}
        </span>
        <span className="author">{authorName(push.author)}</span>
        <time dateTime={push.createdAt} className="muted">
          {formatAge(push.createdAt)}
        </time>
        <span className={`badge state-${result}`}>{result}</span>
        <button
          type="button"
          className="watch"
          aria-pressed={watched}
          title="notify me when this push completes"
          onClick={async () => setWatched(await toggleWatch(push.id))}
        >
          {watched ? 'watching' : 'watch'}
        </button>
      </div>
      {push.message && <p className="message">{push.message.split('\n')[0]}</p>}
      <div className="symbols">
        {groupByBuilder(push.jobs).map((group) => (
          <span className="group" key={group.builder} title={group.builder}>
            <span className="group-name">{group.builder}</span>
            {group.jobs.map((job) => (
              <JobSymbol key={job.id} job={job} symbol={group.symbol} />
            ))}
          </span>
        ))}
      </div>
      {open && <PushSummaryPanel push={push} />}
    </article>
  );
});
