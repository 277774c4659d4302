/**
 * The URL's search parameters per view, read leniently: a hand-edited or stale link drops what
 * it can't read instead of failing, and every filter a view shows is in its URL, so it can be linked.
 */
import { PUSH_RESULTS, type PushResult } from '@switchyard/protocol/browser';

type Raw = Record<string, unknown>;

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function hexPrefix(value: string | undefined): string | undefined {
  return value !== undefined && /^[0-9a-fA-F]{1,64}$/.test(value) ? value : undefined;
}

function positive(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export interface PushesSearch {
  repo?: string | undefined;
  branch?: string | undefined;
  author?: string | undefined;
  /** The start of a revision, in hex. */
  revision?: string | undefined;
  result?: PushResult | undefined;
  /** The push whose summary is open. */
  push?: number | undefined;
}

export function pushesSearch(raw: Raw): PushesSearch {
  return {
    repo: text(raw.repo),
    branch: text(raw.branch),
    author: text(raw.author),
    revision: hexPrefix(text(raw.revision)),
    result: PUSH_RESULTS.find((result) => result === text(raw.result)),
    push: positive(raw.push),
  };
}

export interface LogSearchParams {
  attempt?: number | undefined;
  /** The search on the server, kept in the URL so a link opens with its hits. */
  q?: string | undefined;
}

export function logSearch(raw: Raw): LogSearchParams {
  return { attempt: positive(raw.attempt), q: text(raw.q) };
}

export interface AnswersSearch {
  days?: number | undefined;
  repo?: string | undefined;
  branch?: string | undefined;
}

export function answersSearch(raw: Raw): AnswersSearch {
  return { days: positive(raw.days), repo: text(raw.repo), branch: text(raw.branch) };
}
