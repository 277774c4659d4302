const UNITS: ReadonlyArray<[suffix: string, ms: number]> = [
  ['d', 24 * 60 * 60 * 1000],
  ['h', 60 * 60 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
];

/** How long ago an ISO 8601 time was, in its largest whole unit: `12 s ago`, `4 m ago`, `3 d ago`. */
export function formatAge(time: string | null | undefined, now: Date = new Date()): string {
  if (!time) return '-';
  const elapsed = now.getTime() - Date.parse(time);
  if (Number.isNaN(elapsed)) return '-';
  for (const [suffix, unitMs] of UNITS) {
    if (elapsed >= unitMs) return `${Math.floor(elapsed / unitMs)} ${suffix} ago`;
  }
  return 'just now';
}
