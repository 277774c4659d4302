import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A process group outlives the worker that started it: killed with SIGKILL, the worker can't
 * kill its step, whose processes would go on running while the coordinator gives the job to
 * another worker. So the worker keeps one watchdog process, in a group of its own, that reads
 * the groups to guard from a pipe (`+ID` to add, `-ID` to remove) and, when the pipe closes —
 * however the worker died — kills every group still listed. The script uses only shell
 * builtins, so guarding a step costs a line on a pipe, not a process.
 */
const WATCHDOG_SCRIPT = `
groups=' '
while read line; do
  case $line in
    +*) groups="$groups\${line#+} " ;;
    -*) next=' '; for g in $groups; do [ "$g" = "\${line#-}" ] || next="$next$g "; done; groups=$next ;;
  esac
done
for g in $groups; do kill -KILL -$g 2>/dev/null; done
`;

let watchdog: ChildProcess | null = null;

function running(): ChildProcess | null {
  if (watchdog?.stdin?.writable) return watchdog;
  const started = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  started.on('error', () => {
    // Could not start: steps run unguarded, as they would without a watchdog.
  });
  started.stdin?.on('error', () => {
    // Gone (killed from outside): the next step starts a new one.
  });
  // Neither the watchdog nor its pipe may keep the worker process alive.
  started.unref();
  (started.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog = started;
  return started;
}

/** Kill this process group if this process dies before `releaseGroup`. */
export function guardGroup(groupId: number): void {
  running()?.stdin?.write(`+${groupId}\n`);
}

export function releaseGroup(groupId: number): void {
  if (watchdog?.stdin?.writable) watchdog.stdin.write(`-${groupId}\n`);
}
