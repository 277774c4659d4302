/**
 * @module
 * An RFC 3161 timestamp authority for the tests: `openssl ts -reply` behind a small HTTP server,
 * with a certificate from the test CA. osslsigncode asks it exactly as it would a public TSA.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestKeys } from '../../src/testing/index.ts';

const run = promisify(execFile);

export interface TestTsa {
  url: string;
  /** Timestamp requests answered so far. */
  requests(): number;
  close(): Promise<void>;
}

export async function startTestTsa(keys: TestKeys, dir: string): Promise<TestTsa> {
  const config = join(dir, 'tsa.cnf');
  await writeFile(join(dir, 'tsaserial'), '01\n');
  await writeFile(
    config,
    `[ tsa ]
default_tsa = test_tsa
[ test_tsa ]
serial = ${join(dir, 'tsaserial')}
crypto_device = builtin
signer_cert = ${keys.tsaCertificate}
certs = ${keys.caCertificate}
signer_key = ${keys.tsaKey}
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha1, sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`,
  );
  let answered = 0;
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const name = randomBytes(6).toString('hex');
    const query = join(dir, `${name}.tsq`);
    const reply = join(dir, `${name}.tsr`);
    try {
      await writeFile(query, Buffer.concat(chunks));
      await run('openssl', ['ts', '-reply', '-config', config, '-queryfile', query, '-out', reply]);
      const body = await readFile(reply);
      answered++;
      response.writeHead(200, { 'content-type': 'application/timestamp-reply', 'content-length': body.length });
      response.end(body);
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests: () => answered,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
