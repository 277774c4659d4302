import type { BlobsSettings, FarmConfig } from '@switchyard/protocol';
import { parseS3Url, type S3Location } from '../blobs/s3-location.ts';
import type { ConfigProblem } from './config-error.ts';

/** Where the coordinator keeps blobs, as settled at start. */
export type BlobsTarget =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      location: S3Location;
      /** What the S3 client is built with; credentials null: the SDK's usual chain (AWS_* variables, profiles, instance roles). */
      client: {
        region: string;
        endpoint: string | undefined;
        forcePathStyle: boolean;
        credentials: { accessKeyId: string; secretAccessKey: string } | null;
      };
      redirectDownloads: boolean;
    };

/**
 * Settles the blob store from the config's `server.blobs` and `server.blob_dir`, and the
 * `--blobs` URL of the command line, which replaces the config's URL (keeping its endpoint and
 * credentials). Throws the problem when the command-line URL is not an S3 URL; the config's own
 * problems were reported when it was loaded.
 */
export function blobsTarget(
  server: { blobs?: BlobsSettings; blob_dir?: string } | undefined,
  override: string | undefined,
  env: NodeJS.ProcessEnv,
): BlobsTarget {
  const settings = server?.blobs;
  const url = override ?? settings?.url;
  if (url === undefined) return { kind: 'local', dir: server?.blob_dir ?? 'blobs' };
  const location = parseS3Url(url);
  if ('problem' in location) throw new Error(`--blobs: ${location.problem}`);
  const endpoint = settings?.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const keyEnv = settings?.access_key_id_env;
  const secretEnv = settings?.secret_access_key_env;
  return {
    kind: 's3',
    location,
    client: {
      region: settings?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
      endpoint,
      // Self-hosted stores (MinIO, moto) seldom have a wildcard DNS name for bucket hosts.
      forcePathStyle: settings?.force_path_style ?? endpoint !== undefined,
      credentials:
        keyEnv && secretEnv ? { accessKeyId: env[keyEnv] as string, secretAccessKey: env[secretEnv] as string } : null,
    },
    redirectDownloads: settings?.redirect_downloads ?? false,
  };
}

/** What the schema can't check in `server.blobs`: a bucket URL that parses, both credential variables set, one place for blobs. */
export function blobsProblems(config: FarmConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const settings = config.server?.blobs;
  if (!settings) return [];
  const problems: ConfigProblem[] = [];
  const location = parseS3Url(settings.url);
  if ('problem' in location) problems.push({ path: 'server.blobs.url', message: location.problem });
  if (config.server?.blob_dir !== undefined) {
    problems.push({
      path: 'server.blob_dir',
      message: 'blobs go to server.blobs (S3); remove blob_dir, or server.blobs to keep them on disk',
    });
  }
  if (settings.endpoint !== undefined && !URL.canParse(settings.endpoint)) {
    problems.push({ path: 'server.blobs.endpoint', message: `"${settings.endpoint}" is not a URL` });
  }
  const keyEnv = settings.access_key_id_env;
  const secretEnv = settings.secret_access_key_env;
  if ((keyEnv === undefined) !== (secretEnv === undefined)) {
    problems.push({
      path: keyEnv === undefined ? 'server.blobs.secret_access_key_env' : 'server.blobs.access_key_id_env',
      message: 'expected both access_key_id_env and secret_access_key_env, or neither (the AWS_* variables then)',
    });
  }
  for (const [field, name] of [
    ['access_key_id_env', keyEnv],
    ['secret_access_key_env', secretEnv],
  ] as const) {
    if (name !== undefined && !env[name]) {
      problems.push({ path: `server.blobs.${field}`, message: `environment variable ${name} is not set or empty` });
    }
  }
  return problems;
}
