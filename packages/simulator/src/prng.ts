/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * A seeded generator (sfc32) for one named stream of a scenario's seed. Separate streams (the
 * arrivals, each job's own draws, the random worker choice) keep one part of a run from
 * shifting the numbers of another: every policy sees the same pushes, and the same job the
 * same jitter, whatever order the policy runs things in.
 */
export function seededRandom(seed: number, stream: string): Random {
  let h = splitmix32(seed >>> 0);
  for (let i = 0; i < stream.length; i++) h = splitmix32(h ^ stream.charCodeAt(i));
  let a = splitmix32(h);
  let b = splitmix32(a);
  let c = splitmix32(b);
  let d = splitmix32(c);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** An exponentially distributed draw with the given mean: the gap between Poisson arrivals. */
export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}
