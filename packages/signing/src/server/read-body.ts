import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '@switchyard/protocol';

/**
 * The request's body, held in memory (it is signed from memory), refused once it passes
 * `maxBytes` whatever its Content-Length said, and refused if it is not the content its URL
 * names by sha256.
 */
export async function readVerifiedBody(request: IncomingMessage, sha256: string, maxBytes: number): Promise<Buffer> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) {
      request.destroy();
      throw new ApiError('payload-too-large', `the body passed this signer's limit of ${maxBytes} bytes`, {
        limit: maxBytes,
      });
    }
    hash.update(chunk);
    chunks.push(chunk);
  }
  const actual = hash.digest('hex');
  if (actual !== sha256) {
    throw new ApiError('digest-mismatch', `the body's sha256 is ${actual}, not the ${sha256} the URL names`, {
      expected: sha256,
      actual,
    });
  }
  return Buffer.concat(chunks, received);
}
