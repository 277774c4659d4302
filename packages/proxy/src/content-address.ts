export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ContentAddress {
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  digest: string;
}

/**
 * A URL whose path names its content's digest (`…/sha256/<64 hex>` or `…/sha512/<128 hex>`, as the
 * artifact store and tooltool serve) is immutable: its bytes can be checked against it and kept for ever.
 */
export function contentAddressOf(path: string): ContentAddress | undefined {
  const pathOnly = path.split('?', 1)[0] ?? '';
  const match = /\/(sha256\/([0-9a-f]{64})|sha512\/([0-9a-f]{128}))(?:\/|$)/i.exec(pathOnly);
  if (!match) return undefined;
  return match[2]
    ? { algorithm: 'sha256', digest: match[2].toLowerCase() }
    : { algorithm: 'sha512', digest: (match[3] as string).toLowerCase() };
}
