/** A builder's `after`, which a file may give as one name or a list. */
export function afterNames(builder: { after?: string | readonly string[] | undefined }): string[] {
  if (builder.after === undefined) return [];
  return typeof builder.after === 'string' ? [builder.after] : [...builder.after];
}

/**
 * The builder names around a cycle of `after` edges (the first name repeated at the end), or
 * null. Names with no edges of their own (unknown builders) are reported elsewhere and ignored here.
 */
export function findCycle(builders: readonly { name: string; after?: string | readonly string[] }[]): string[] | null {
  const edges = new Map(builders.map((b) => [b.name, afterNames(b)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done' || !edges.has(name)) return null;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of edges.get(name) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of edges.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}
