/**
 * Items in order, sorted only as far as anyone reads: a binary heap hands out the next item on
 * demand. A decision near the head of a queue of 10,000 jobs then costs a heapify and a few
 * pops, not a full sort.
 */
export class LazyOrder<T> {
  private readonly heap: T[];
  private readonly sorted: T[] = [];

  constructor(
    items: readonly T[],
    private readonly before: (a: T, b: T) => boolean,
  ) {
    this.heap = [...items];
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The item at `index` in order, or undefined past the end. */
  at(index: number): T | undefined {
    while (this.sorted.length <= index && this.heap.length > 0) this.sorted.push(this.pop());
    return this.sorted[index];
  }

  private pop(): T {
    const top = this.heap[0] as T;
    const last = this.heap.pop() as T;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && this.before(heap[left] as T, heap[smallest] as T)) smallest = left;
      if (right < heap.length && this.before(heap[right] as T, heap[smallest] as T)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest] as T, heap[index] as T];
      index = smallest;
    }
  }
}
