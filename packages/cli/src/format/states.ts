import type { Style, StyleFormat } from './style.ts';

/** One colour per state, shared by jobs, attempts, steps and workers. */
const STATE_FORMATS: Record<string, StyleFormat> = {
  success: 'green',
  failure: 'red',
  exception: 'magenta',
  running: 'yellow',
  pending: 'dim',
  waiting: 'dim',
  cancelled: 'gray',
  skipped: 'gray',
  idle: 'green',
  busy: 'yellow',
  offline: 'gray',
};

export function formatState(state: string, style: Style): string {
  const format = STATE_FORMATS[state];
  return format ? style(format, state) : state;
}

/** `2 success, 1 running` in the order the states are listed, for a compact view of many jobs. */
export function summarizeStates(states: readonly string[], order: readonly string[], style: Style): string {
  if (states.length === 0) return style('dim', 'no jobs');
  const counts = new Map<string, number>();
  for (const state of states) counts.set(state, (counts.get(state) ?? 0) + 1);
  const ranked = [...counts.keys()].sort((a, b) => rank(order, a) - rank(order, b));
  return ranked.map((state) => `${counts.get(state)} ${formatState(state, style)}`).join(', ');
}

function rank(order: readonly string[], state: string): number {
  const index = order.indexOf(state);
  return index < 0 ? order.length : index;
}
