export interface EvictionCandidate {
  id: string;
  size: number;
}

export interface EvictionBudget {
  /** Bytes the cache holds now, including fills in progress. */
  usedBytes: number;
  /** Bytes about to be added. */
  incomingBytes: number;
  maxBytes: number;
  /**
   * The fraction of `maxBytes` left free after an eviction, so the next fills do not each evict again.
   */
  headroom: number;
}

/**
 * Which entries to remove, least recently used first, so the cache stays under its bound. Nothing is
 * removed while the incoming bytes fit; once they don't, entries go until the cache is down to
 * `maxBytes × (1 − headroom)` with the incoming bytes counted.
 */
export function chooseEvictions(leastRecentFirst: Iterable<EvictionCandidate>, budget: EvictionBudget): string[] {
  if (budget.usedBytes + budget.incomingBytes <= budget.maxBytes) return [];
  const target = budget.maxBytes * (1 - budget.headroom);
  let projected = budget.usedBytes + budget.incomingBytes;
  const chosen: string[] = [];
  for (const candidate of leastRecentFirst) {
    if (projected <= target) break;
    chosen.push(candidate.id);
    projected -= candidate.size;
  }
  return chosen;
}
