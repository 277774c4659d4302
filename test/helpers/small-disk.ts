import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A launcher (see runSwitchyard) that gives the process a disk of `bytes` at `dir`: a tmpfs,
 * mounted in a mount namespace of the process's own, inside a user namespace so that no root is
 * needed. Nothing stays mounted once the process is gone.
 */
export function onSmallDisk(dir: string, bytes: number): string[] {
  return [
    'unshare',
    '--user',
    '--map-root-user',
    '--mount',
    'sh',
    '-c',
    'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"',
    'small-disk',
    String(bytes),
    dir,
  ];
}

/** A path as the process `pid` sees it, on its own mounts. */
export function seenBy(pid: number, path: string): string {
  return `/proc/${pid}/root${path}`;
}

/** Writes `file` until its disk has no space left. */
export function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}
