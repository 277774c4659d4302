import type { EventFilter } from '@switchyard/protocol';
import type { CommittedEvent } from '../store/write-context.ts';

export function matchesFilter({ event, dims }: CommittedEvent, filter: EventFilter): boolean {
  if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type)) return false;
  if (filter.repo !== undefined && dims.repo !== filter.repo) return false;
  if (filter.branch !== undefined && dims.branch !== filter.branch) return false;
  if (filter.builder !== undefined && dims.builder !== filter.builder) return false;
  if (filter.job !== undefined && dims.jobId !== filter.job) return false;
  if (filter.push !== undefined && dims.pushId !== filter.push) return false;
  return true;
}
