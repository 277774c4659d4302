import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redactUrl } from './vcs-command.ts';
import { makeDirectoriesWritable } from './writable-tree.ts';

/** How a repository's store is kept: git by root commit, shallow git by URL (its root is unknown), hg by revision 0. */
export type StoreKind = 'git' | 'git-shallow' | 'hg';

/** Written last when a store is made: a store without it was never finished and is not trusted. */
const MARKER = 'switchyard-store.json';

export interface StoreMarker {
  kind: StoreKind;
  key: string;
  createdAt: string;
}

/**
 * The directories of one store root, shared by every worker on a machine:
 * `<root>/<kind>/<key>` the stores, `<key>.lock` beside each, `<root>/urls/` which key a URL
 * was found to have, and `<root>/tmp/` for stores being made.
 */
export class StoreLayout {
  constructor(readonly root: string) {}

  storePath(kind: StoreKind, key: string): string {
    return join(this.root, kind, key);
  }

  lockPath(storePath: string): string {
    return `${storePath}.lock`;
  }

  /** Held while a URL nobody has seen yet is fetched for the first time. */
  discoveryLockPath(kind: StoreKind, url: string): string {
    return join(this.root, 'urls', `${kind}-${urlHash(url)}.lock`);
  }

  /** Where a store being made for `url` is fetched into, before its key is known. */
  discoveryPath(kind: StoreKind, url: string): string {
    return join(this.root, 'tmp', `${kind}-${urlHash(url)}`);
  }

  async knownKey(kind: StoreKind, url: string): Promise<string | null> {
    try {
      const record = JSON.parse(await readFile(this.urlRecord(kind, url), 'utf8')) as { key?: unknown };
      return typeof record.key === 'string' && /^[0-9a-z-]+$/.test(record.key) ? record.key : null;
    } catch {
      return null;
    }
  }

  async rememberKey(kind: StoreKind, url: string, key: string): Promise<void> {
    const file = this.urlRecord(kind, url);
    await mkdir(join(this.root, 'urls'), { recursive: true });
    const temporary = `${file}.${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, JSON.stringify({ url: redactUrl(url), key }));
    await rename(temporary, file);
  }

  async forgetKey(kind: StoreKind, url: string): Promise<void> {
    await rm(this.urlRecord(kind, url), { force: true });
  }

  /** Marks a store finished: only then is it used. */
  async markFinished(storePath: string, marker: StoreMarker): Promise<void> {
    await writeFile(join(storePath, MARKER), JSON.stringify(marker));
  }

  async isFinished(storePath: string, kind: StoreKind, key: string): Promise<boolean> {
    try {
      const marker = JSON.parse(await readFile(join(storePath, MARKER), 'utf8')) as StoreMarker;
      return marker.kind === kind && marker.key === key;
    } catch {
      return false;
    }
  }

  async exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  /** Deletes a store (or a tree): renamed aside first, so a half-deleted one is never mistaken for a store. */
  async remove(path: string): Promise<void> {
    const aside = `${path}.removing-${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      await rm(aside, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') throw error;
      // A job left directories nobody may write (a Go module cache): only their owner's write bit is missing.
      await makeDirectoriesWritable(aside);
      await rm(aside, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  private urlRecord(kind: StoreKind, url: string): string {
    return join(this.root, 'urls', `${kind}-${urlHash(url)}.json`);
  }
}

export function urlHash(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 32);
}
