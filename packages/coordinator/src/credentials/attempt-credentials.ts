import { randomBytes } from 'node:crypto';
import {
  type Assignment,
  type JobTokenClaims,
  mintJobToken,
  type SignSpec,
  type TokenSecret,
  verifyJobToken,
} from '@switchyard/protocol';
import type { Farm } from '../config/farm-config.ts';
import type { JobAssignment, KeyStore } from '../store/port.ts';

/** The farm key's name in the store; every coordinator of the database signs with the same one. */
const KEY_NAME = 'attempt-credentials';
/** After the steps' own timeouts: checkout, tools, uploads, signing, and an outage's worth of retried reports. */
const SLACK_SECONDS = 3600;

/**
 * The credentials a claim hands out with an attempt: the attempt's own token, which acts on that
 * attempt only (its reports, log and uploads) and reads, and, for a builder that signs, a signing
 * token for the signer. Both are job tokens (`@switchyard/protocol`'s job-token.ts); the
 * attempt's is signed with a key the coordinators make once and share through the store, so any
 * replica checks it without a lookup, and it survives restarts. The store refuses whatever a
 * token asks once its attempt has ended, so a token outliving its attempt acts on nothing.
 */
export class AttemptCredentials {
  private constructor(
    private readonly key: TokenSecret,
    private readonly farm: () => Farm,
    private readonly clock: () => number,
  ) {}

  static async open(keys: KeyStore, farm: () => Farm, clock: () => number = Date.now): Promise<AttemptCredentials> {
    const stored = await keys.obtain(KEY_NAME, () => randomBytes(32).toString('base64'));
    return new AttemptCredentials({ id: 'farm', key: Buffer.from(stored, 'base64') }, farm, clock);
  }

  /** The assignment as the worker receives it: with its credentials. */
  issue(assignment: JobAssignment): Assignment {
    const { job, attemptId } = assignment;
    const ttlSeconds = attemptLifetimeSeconds(assignment);
    const now = this.clock();
    const attemptToken = mintJobToken({
      secret: this.key,
      audience: 'attempt',
      job: job.id,
      attempt: attemptId,
      ttlSeconds,
      now,
    });
    const signing = this.farm().signing;
    const formats = signingFormats(job.sign);
    if (!signing || formats.length === 0) return { ...assignment, attemptToken };
    const token = mintJobToken({
      secret: signing.secret,
      audience: 'signer',
      job: job.id,
      attempt: attemptId,
      formats,
      ttlSeconds,
      now,
    });
    return { ...assignment, attemptToken, signing: { url: signing.url, token } };
  }

  /** The claims of an attempt credential; throws JobTokenError for anything else. */
  verify(token: string): JobTokenClaims {
    return verifyJobToken(token, [this.key], 'attempt', this.clock());
  }
}

/** As long as the attempt could run: every step to its timeout, plus the work around them and a lease. */
export function attemptLifetimeSeconds(assignment: Pick<JobAssignment, 'job' | 'leaseSeconds'>): number {
  const steps = assignment.job.steps.reduce((sum, step) => sum + step.timeoutSeconds, 0);
  return steps + assignment.leaseSeconds + SLACK_SECONDS;
}

/** The formats a job's `sign:` entries use: all its signing token allows. */
export function signingFormats(sign: readonly SignSpec[] | undefined): string[] {
  return [...new Set((sign ?? []).map((entry) => entry.format))].sort();
}
