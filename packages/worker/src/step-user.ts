import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The unprivileged user a worker started as root runs build steps as (`--run-as`). */
export interface StepUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One line of `getent passwd`: name:password:uid:gid:gecos:home:shell. */
export function parsePasswdLine(line: string): StepUser | null {
  const fields = line.trim().split(':');
  if (fields.length < 7) return null;
  const [name = '', , uid = '', gid = '', , home = ''] = fields;
  if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) return null;
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/**
 * Looks up `name` for `--run-as`, refusing what would give no isolation: a worker that is not
 * root can't switch users, and a step running as root (or as the worker's own user) could read
 * the worker's credential from its environment or memory.
 */
export async function resolveStepUser(name: string, workerUid = process.getuid?.() ?? -1): Promise<StepUser> {
  if (workerUid !== 0) {
    throw new Error(`--run-as ${name} needs the worker to start as root: it runs each step as ${name} from there`);
  }
  let output: string;
  try {
    ({ stdout: output } = await run('getent', ['passwd', name]));
  } catch {
    throw new Error(`--run-as: no user named ${name} on this machine (useradd --system ${name} makes one)`);
  }
  const user = parsePasswdLine(output.split('\n')[0] ?? '');
  if (!user) throw new Error(`--run-as: cannot read the passwd entry of ${name}`);
  if (user.uid === 0) throw new Error(`--run-as ${name}: that user is root, so steps would not be isolated`);
  return user;
}

/** Hands a directory tree to the step user, so that its steps may write where they run. */
export async function handOver(dir: string, user: StepUser): Promise<void> {
  await run('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
}
