/**
 * @module
 * The signer's client, as a job (through `switchyard sign`), a test or the benchmark uses it:
 * ask by digest, upload only on a miss with `Expect: 100-continue` (so a refusal or a file the
 * signer already has costs no body bytes), then fetch the output by its digest and check it.
 * undici's fetch refuses Expect, so uploads go through node:http.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiRequestError } from '@switchyard/protocol';
import type { FileFormatName } from '../formats/format-names.ts';
import type { SignedOutput } from '../server/api-schemas.ts';

export interface SignedFile {
  result: SignedOutput;
  /** The signed file (a detached signature for gpg). */
  output: Buffer;
  /** Whether the body had to be sent: false when the signer knew the input by its digest. */
  uploaded: boolean;
}

export class SignerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async signFile(format: FileFormatName, keyId: string, input: Buffer): Promise<SignedFile> {
    const sha256 = createHash('sha256').update(input).digest('hex');
    const known = await this.lookup(format, keyId, sha256);
    const { result, bodySent } = known
      ? { result: known, bodySent: false }
      : await this.upload(format, keyId, sha256, input);
    const output = await this.fetchOutput(result.output.sha256);
    return { result, output, uploaded: bodySent };
  }

  /** The signed output of this input if the signer has it already. */
  async lookup(format: FileFormatName, keyId: string, sha256: string): Promise<SignedOutput | null> {
    const response = await this.send('GET', signPath(format, keyId, sha256));
    const details = response.json()?.error?.details as { signed?: boolean } | undefined;
    if (response.status === 404 && details?.signed === false) return null;
    return response.expect(200) as SignedOutput;
  }

  /** PUT with Expect: 100-continue; the body is sent only once the signer has said to. */
  async upload(
    format: FileFormatName,
    keyId: string,
    sha256: string,
    body: Buffer,
  ): Promise<{ result: SignedOutput; bodySent: boolean }> {
    const response = await this.send('PUT', signPath(format, keyId, sha256), body);
    return { result: response.expect(200) as SignedOutput, bodySent: response.bodySent };
  }

  async fetchOutput(sha256: string): Promise<Buffer> {
    const response = await this.send('GET', `/api/v1/outputs/${sha256}`);
    // The bytes are the output: checked, never parsed.
    response.ensure(200);
    const actual = createHash('sha256').update(response.body).digest('hex');
    if (actual !== sha256) throw new Error(`the signer sent output ${actual} for ${sha256}`);
    return response.body;
  }

  async signHash(keyId: string, algorithm: 'sha1' | 'sha256' | 'sha384' | 'sha512', digest: Buffer): Promise<Buffer> {
    const body = Buffer.from(JSON.stringify({ algorithm, digest: digest.toString('hex') }));
    const response = await this.send(
      'POST',
      `/api/v1/sign-hash/${encodeURIComponent(keyId)}`,
      body,
      'application/json',
    );
    return Buffer.from((response.expect(200) as { signature: string }).signature, 'base64');
  }

  private send(
    method: string,
    path: string,
    body?: Buffer,
    contentType = 'application/octet-stream',
  ): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (body) {
      Object.assign(headers, { 'content-type': contentType, 'content-length': body.length });
      if (method === 'PUT') headers.expect = '100-continue';
    }
    return new Promise((resolve, reject) => {
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers });
      let bodySent = false;
      const sendBody = () => {
        bodySent = true;
        request.end(body);
      };
      request.on('continue', sendBody);
      request.on('error', reject);
      request.on('response', (message: IncomingMessage) => {
        const chunks: Buffer[] = [];
        message.on('data', (chunk: Buffer) => chunks.push(chunk));
        message.on('error', reject);
        message.on('end', () => {
          // A final answer came instead of 100 Continue: the body is not wanted.
          if (!bodySent && body && method === 'PUT') request.destroy();
          resolve(new Response(message.statusCode ?? 0, Buffer.concat(chunks), bodySent));
        });
      });
      if (!body) request.end();
      else if (method !== 'PUT') sendBody();
      else request.flushHeaders();
    });
  }
}

function signPath(format: string, keyId: string, sha256: string): string {
  return `/api/v1/sign/${encodeURIComponent(format)}/${encodeURIComponent(keyId)}/${sha256}`;
}

class Response {
  constructor(
    readonly status: number,
    readonly body: Buffer,
    readonly bodySent: boolean,
  ) {}

  get text(): string {
    return this.body.toString('utf8');
  }

  json(): { error?: { code?: string; message?: string; details?: unknown } } | null {
    try {
      return JSON.parse(this.text);
    } catch {
      return null;
    }
  }

  /** The parsed JSON of a `status` answer; anything else is the server's error as an ApiRequestError. */
  expect(status: number): unknown {
    this.ensure(status);
    return JSON.parse(this.text);
  }

  /** Throws the server's error unless the answer has `status`. */
  ensure(status: number): void {
    if (this.status === status) return;
    const error = this.json()?.error;
    throw new ApiRequestError(
      this.status,
      error?.code ?? 'unknown',
      error?.message ?? `the signer answered ${this.status}`,
      error?.details,
    );
  }
}
