import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './processes.ts';

/** What a coordinator needs in its environment to reach the moto server (any credentials do). */
export interface MotoEnv extends NodeJS.ProcessEnv {
  AWS_ENDPOINT_URL_S3: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
}

export interface Moto {
  endpoint: string;
  env: MotoEnv;
  client: S3Client;
  /** Creates a bucket and returns its name. */
  bucket(name: string): Promise<string>;
  /** Every key in the bucket under `prefix`. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The multipart uploads still open in the bucket: none, once every upload has finished or been aborted. */
  openUploads(bucket: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * moto_server (Python's moto, preinstalled on the project's machines: PyPI can't be reached) as
 * an in-memory S3 on a free port. Fails, never skips, when it is missing.
 */
export async function startMoto(): Promise<Moto> {
  const command = motoCommand();
  const port = await freePort();
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test process that ends without its afterAll (a timeout, a crash) takes moto with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early:\n${output}`);
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`moto_server did not answer within 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const env: MotoEnv = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'moto',
    AWS_SECRET_ACCESS_KEY: 'moto',
    AWS_REGION: 'us-east-1',
  };
  const client = new S3Client({
    endpoint,
    region: env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  return {
    endpoint,
    env,
    client,
    async bucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async keys(bucket, prefix) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listed.Contents ?? []).map((object) => object.Key as string).sort();
    },
    async openUploads(bucket) {
      const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (listed.Uploads ?? []).map((upload) => upload.Key as string);
    },
    async stop() {
      client.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function motoCommand(): string {
  if (spawnSync('sh', ['-c', 'command -v moto_server']).status === 0) return 'moto_server';
  const shim = join(homedir(), '.pyenv', 'shims', 'moto_server');
  if (existsSync(shim)) return shim;
  throw new Error(
    "moto_server is not installed: the S3 blob tests need it (Python's `moto[server]`, preinstalled on the project's machines)",
  );
}
