import { readFileSync } from 'node:fs';

/** Alive means running: a zombie nobody reaped (PID 1 in a container may not reap) is dead. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Whether the process is gone within `timeoutMs`. A killed process closes its pipes a moment
 * before the kernel marks it dead, so a check right after its output ends must allow for that.
 */
export async function diesWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
