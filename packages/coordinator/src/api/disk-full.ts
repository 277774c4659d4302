import type { IncomingMessage } from 'node:http';
import type { Metrics } from '../metrics.ts';
import type { ThrottledLog } from '../throttled-log.ts';
import type { ContinueCheck } from './expect-continue.ts';
import { storeErrorOf } from './store-errors.ts';

/**
 * Requests refused 507 disk-full: counted in `switchyard_disk_full_refusals_total` by what was
 * full, and logged, throttled, since every request that writes is refused while it lasts.
 */
export class DiskFullRefusals {
  constructor(
    private readonly metrics: Metrics,
    private readonly log: ThrottledLog,
  ) {}

  /** Counts the failure of a request when it is a full disk; anything else is left alone. */
  note(error: unknown, request: Pick<IncomingMessage, 'method' | 'url'>): void {
    const refusal = storeErrorOf(error);
    if (refusal?.kind !== 'disk-full') return;
    const source = String(refusal.details.source);
    this.metrics.diskFullRefusals.inc({ source });
    this.log.warn('refused a request with 507 disk-full: there is no space left for the data', {
      source,
      method: request.method,
      url: request.url,
      cause: refusal.cause instanceof Error ? refusal.cause.message : String(refusal.cause),
    });
  }

  /** The check, with a full disk found before an upload's body counted as the routes' are. */
  counting(check: ContinueCheck): ContinueCheck {
    return {
      ...check,
      decide: (request, groups) =>
        check.decide(request, groups).catch((error: unknown) => {
          this.note(error, request);
          throw error;
        }),
    };
  }
}
