import type { PushSummary, SwitchyardEvent } from '@switchyard/protocol/browser';

const STORAGE_KEY = 'switchyard.watched-pushes';

/** Pushes whose completion the user asked to be told about, kept across reloads in this browser. */
export function watchedPushes(): Set<number> {
  try {
    return new Set(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as number[]);
  } catch {
    return new Set();
  }
}

function save(ids: Set<number>): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify([...ids]));
}

/** Starts watching a push (asking for permission to notify, if not yet given), or stops. */
export async function toggleWatch(pushId: number): Promise<boolean> {
  const ids = watchedPushes();
  if (ids.has(pushId)) {
    ids.delete(pushId);
    save(ids);
    return false;
  }
  if ('Notification' in window && Notification.permission === 'default') await Notification.requestPermission();
  ids.add(pushId);
  save(ids);
  return true;
}

/** Shows a browser notification for each watched push that completed, then stops watching it. */
export function notifyWatched(events: readonly SwitchyardEvent[]): void {
  const completed = events.filter((e) => e.type === 'push.completed');
  if (completed.length === 0) return;
  const ids = watchedPushes();
  for (const event of completed) {
    const { push, summary } = event.data as {
      push: { id: number; branch: string; revision: string };
      summary: PushSummary;
    };
    if (!ids.has(push.id)) continue;
    ids.delete(push.id);
    if ('Notification' in window && Notification.permission === 'granted') {
      const notification = new Notification(`Push ${push.id} on ${push.branch}: ${summary.result}`, {
        body: `${push.revision.slice(0, 12)} · ${summary.jobs} jobs`,
        tag: `push-${push.id}`,
      });
      notification.onclick = () => window.focus();
    }
  }
  save(ids);
}
