import { EVENT_TYPES, type EventDataMap, type EventType, type SwitchyardEvent } from '@switchyard/protocol';
import { formatDuration } from './duration.ts';
import { authorName, formatJobLabel, formatRef } from './labels.ts';
import { plural } from './plural.ts';
import { formatState } from './states.ts';
import type { Style } from './style.ts';

type Describe<T extends EventType> = (data: EventDataMap[T], style: Style) => string;

/** Columns padded so the descriptions line up (ids up to #9999). */
const ID_WIDTH = 5;
const TYPE_WIDTH = Math.max(...EVENT_TYPES.map((type) => type.length));

/** What each event says, after its job or worker. Unknown types (a newer server) fall back to their JSON. */
const DESCRIPTIONS: { [T in EventType]: Describe<T> } = {
  'push.created': ({ push }, style) => {
    const jobs = push.jobs.map((job) => `${job.id} ${job.builder} ${formatState(job.state, style)}`);
    const by = push.author ? ` by ${authorName(push.author)}` : '';
    return `push ${push.id} ${formatRef(push)}${by}  ${jobs.length > 0 ? `jobs ${jobs.join(', ')}` : 'no jobs'}`;
  },
  'push.completed': ({ push, summary }, style) => {
    const counts = Object.entries(summary.counts).map(([state, count]) => `${count} ${formatState(state, style)}`);
    return `push ${push.id} ${formatRef(push)}  ${formatState(summary.result, style)} (${counts.join(', ')}; ${formatDuration(summary.durationMs)})`;
  },
  'job.waiting': ({ job }, style) => {
    const after = job.dependsOn.length > 0 ? ` (after job ${job.dependsOn.join(', ')})` : '';
    return `${formatJobLabel(job)}  ${formatState('waiting', style)}${after}`;
  },
  'job.pending': ({ job }, style) => `${formatJobLabel(job)}  ${formatState('pending', style)} (pool ${job.pool})`,
  'job.started': ({ job, attempt, worker }, style) =>
    `${formatJobLabel(job)}  ${formatState('running', style)} (worker ${worker}, attempt ${attempt})`,
  'job.finished': ({ job }, style) => {
    const details = [
      job.worker ? `worker ${job.worker}` : null,
      job.durationMs === null ? null : formatDuration(job.durationMs),
    ];
    return `${formatJobLabel(job)}  ${outcome(job.state, job.reason, style)}${parenthesized(details)}`;
  },
  'step.started': ({ job, attempt, step }) => `${formatJobLabel(job)}  step ${step.name} started (attempt ${attempt})`,
  'step.finished': ({ job, step }, style) => {
    const exit = step.signal ? `signal ${step.signal}` : step.exitCode === null ? null : `exit ${step.exitCode}`;
    const details = [exit, step.durationMs === null ? null : formatDuration(step.durationMs)];
    return `${formatJobLabel(job)}  step ${step.name} ${formatState(step.state, style)}${parenthesized(details)}`;
  },
  'attempt.finished': ({ job, attempt }, style) => {
    const details = [
      `worker ${attempt.worker}`,
      attempt.durationMs === null ? null : formatDuration(attempt.durationMs),
    ];
    return `${formatJobLabel(job)}  attempt ${attempt.number} ${outcome(attempt.state, attempt.reason, style)}${parenthesized(details)}`;
  },
  'worker.connected': ({ worker }) => {
    const tags = Object.entries(worker.tags).map(([key, value]) => `${key}=${value}`);
    return `worker ${worker.name} connected${parenthesized([`pool ${worker.pool}`, ...tags])}`;
  },
  'worker.disconnected': ({ worker, reason }) => `worker ${worker.name} disconnected: ${reason}`,
  'worker.benched': ({ worker, until, streak }) =>
    `worker ${worker.name} benched until ${formatClock(until)} after ${plural(streak, 'exception')} in a row`,
  'config.reloaded': ({ repos, builders }) =>
    `config reloaded: ${plural(repos, 'repo')}, ${plural(builders, 'builder')}`,
  'subscription.changed': ({ subscription, change }) =>
    change === 'redelivery'
      ? `subscription ${subscription}: a delivery queued again`
      : `subscription ${subscription} ${change}`,
  'artifact.created': ({ job, artifact }) =>
    `${formatJobLabel(job)}  artifact ${artifact.name} (${plural(artifact.size, 'byte')}, sha256 ${artifact.sha256.slice(0, 12)})`,
  'signing.finished': ({ job, signing }) =>
    `${formatJobLabel(job)}  signed ${plural(signing.files, 'file')} (${signing.formats.join(', ')}; ${signing.cacheHits} from the signer's cache, ${signing.seconds.toFixed(1)} s)`,
};

/**
 * One readable line per event:
 * `14:02:31  #41 job.finished         job 12 build demo/main@abc1234  success (worker w1, 3.2 s)`.
 */
export function formatEventLine(event: SwitchyardEvent, style: Style): string {
  const describe = DESCRIPTIONS[event.type] as Describe<EventType> | undefined;
  const description = describe ? describe(event.data, style) : JSON.stringify(event.data);
  const id = `#${event.id}`.padEnd(ID_WIDTH);
  const type = event.type.padEnd(TYPE_WIDTH);
  return `${style('dim', formatClock(event.time))}  ${style('dim', id)} ${type}  ${description}`;
}

/** Local wall-clock time, `HH:MM:SS`. */
export function formatClock(time: string): string {
  const date = new Date(time);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function outcome(state: string, reason: string | null, style: Style): string {
  return reason && reason !== state ? `${formatState(state, style)}: ${reason}` : formatState(state, style);
}

function parenthesized(details: ReadonlyArray<string | null>): string {
  const present = details.filter((detail) => detail !== null);
  return present.length > 0 ? ` (${present.join(', ')})` : '';
}
