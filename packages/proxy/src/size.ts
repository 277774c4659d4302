const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Thrown for a size the user wrote that cannot be read; the message says what is expected. */
export class InvalidSizeError extends Error {
  override readonly name = 'InvalidSizeError';
}

/** Reads a size such as `50GiB`, `512MB`, `1.5TiB` or `1048576` (bytes) into bytes. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = UNITS[(match?.[2] || 'b').toLowerCase()];
  if (!match || factor === undefined) {
    throw new InvalidSizeError(
      `"${text}" is not a size: expected a number with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 50GiB.`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * factor);
  if (bytes <= 0 || !Number.isSafeInteger(bytes)) throw new InvalidSizeError(`"${text}" must be more than 0 bytes.`);
  return bytes;
}

/** A size for people: 1.5 GiB, 20 MiB, 512 B. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}
