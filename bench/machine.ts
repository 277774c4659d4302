import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** One line naming the machine a benchmark ran on, printed with every result. */
export function describeMachine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** CPU seconds (user + system, all threads) a process has used, from /proc. */
export function processCpuSeconds(pid: number): number {
  // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Whose CPU a farm run spends, as `cpuByRole` groups the machine's processes. */
export type CpuRole = 'coordinator' | 'workers' | 'postgres' | 'other';

function roleOf(commandLine: string): CpuRole {
  if (/switchyard(\.js)? server\b/.test(commandLine)) return 'coordinator';
  if (/switchyard(\.js)? worker\b/.test(commandLine)) return 'workers';
  if (/^(postgres|\/usr\/lib\/postgresql\/)/.test(commandLine)) return 'postgres';
  return 'other';
}

/**
 * CPU seconds every process on the machine has used, with what its exited children used (a
 * worker's job processes, PostgreSQL's autovacuum workers), summed by role. The difference of
 * two readings is what a run cost each role; a process gone in between takes its count with it.
 */
export function cpuByRole(): Map<CpuRole, number> {
  const totals = new Map<CpuRole, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      // utime, stime, cutime and cstime are fields 14 to 17 of /proc/<pid>/stat, in clock ticks.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
      const role = roleOf(commandLine);
      totals.set(role, (totals.get(role) ?? 0) + ticks / 100);
    } catch {
      // The process ended while it was being read.
    }
  }
  return totals;
}

/** What each role spent between two `cpuByRole` readings, in ms per unit of work (a job). */
export function describeCpuPerUnit(before: Map<CpuRole, number>, after: Map<CpuRole, number>, units: number): string {
  const roles: CpuRole[] = ['coordinator', 'workers', 'postgres', 'other'];
  return roles
    .map((role) => `${role} ${((((after.get(role) ?? 0) - (before.get(role) ?? 0)) * 1000) / units).toFixed(1)}`)
    .join(', ');
}
