import type { EventFilter } from './events.ts';
import { compileRoutingPattern, type EventAttributes } from './routing-key.ts';

/** An event as filters see it: its type, what it is about, and its routing key. */
export interface FilterableEvent {
  type: string;
  attributes: EventAttributes;
  routingKey: string;
  /** The routing key split into its words, when the caller keeps them. */
  routingWords?: readonly string[];
}

/**
 * Compiles a filter once into a predicate; every field given must match, and an event that
 * lacks the field filtered on (a worker event under a `repo` filter) does not.
 */
export function compileEventFilter(filter: EventFilter): (event: FilterableEvent) => boolean {
  const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : null;
  const routing = filter.routingKey ? compileRoutingPattern(filter.routingKey) : null;
  const author = filter.author ? authorMatcher(filter.author) : null;
  const { repo, branch, builder, result, job, push } = filter;
  return (event) => {
    const a = event.attributes;
    if (types !== null && !types.has(event.type)) return false;
    if (repo !== undefined && a.repo !== repo) return false;
    if (branch !== undefined && a.branch !== branch) return false;
    if (builder !== undefined && a.builder !== builder) return false;
    if (result !== undefined && a.result !== result) return false;
    if (job !== undefined && a.job !== job) return false;
    if (push !== undefined && a.push !== push) return false;
    if (author !== null && (a.author === null || !author(a.author))) return false;
    if (routing !== null && !routing(event.routingKey, event.routingWords)) return false;
    return true;
  };
}

/** `Ada Lovelace <ada@example.org>` matches itself, `Ada Lovelace` and `ada@example.org` (any case). */
function authorMatcher(wanted: string): (author: string) => boolean {
  const want = wanted.trim().toLowerCase();
  return (author) => {
    const full = author.trim().toLowerCase();
    if (full === want) return true;
    const match = /^(.*?)\s*<([^>]*)>\s*$/.exec(full);
    return match !== null && (match[1] === want || match[2] === want);
  };
}
