const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A duration in milliseconds as people read it: `450 ms`, `3.2 s`, `4 m 10 s`, `2 h 5 m`; `-` when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < MINUTE) {
    const seconds = Math.round(ms / 100) / 10;
    return seconds < 60 ? `${seconds.toFixed(1)} s` : '1 m 0 s';
  }
  if (ms < HOUR) {
    const totalSeconds = Math.round(ms / SECOND);
    return `${Math.floor(totalSeconds / 60)} m ${totalSeconds % 60} s`;
  }
  const totalMinutes = Math.round(ms / MINUTE);
  return `${Math.floor(totalMinutes / 60)} h ${totalMinutes % 60} m`;
}
