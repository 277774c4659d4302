/**
 * Who runs a singleton loop (the AMQP publisher, the webhook deliveries): pure, so that the rule
 * two job queues got wrong — a renewal matched by name alone revived leases held elsewhere
 * (River #197, Oban #1488; the distributed reference, section 1) — is tested without a database.
 */

/** A singleton's row: who holds it, under which term, until when (the store's time, ms). */
export interface SingletonHold {
  holder: string;
  term: number;
  expiresAt: number;
}

export type SingletonDecision =
  /** Ours under the term we hold, and not expired: extend it. */
  | { kind: 'renew' }
  /** Nobody's (never held, or its lease ran out): take it under `term`, one past the last. */
  | { kind: 'acquire'; term: number }
  /** Another's (or ours under a term we no longer know) until it expires: leave it. */
  | { kind: 'held-elsewhere'; by: SingletonHold };

/**
 * Renewal only when holder, term and an unexpired lease all match (River's
 * `WHERE leader_id=$me AND elected_at=$e AND expires_at>=now()`); an expired lease is taken over
 * by whoever asks first, under the next term, even by its last holder: a holder whose lease ran
 * out may have been paused, and what it did under the old term is fenced off by the new one.
 */
export function decideSingleton(
  row: SingletonHold | null,
  me: { holder: string; term: number | null },
  now: number,
): SingletonDecision {
  if (row === null) return { kind: 'acquire', term: 1 };
  if (row.expiresAt < now) return { kind: 'acquire', term: row.term + 1 };
  if (me.term !== null && row.holder === me.holder && row.term === me.term) return { kind: 'renew' };
  return { kind: 'held-elsewhere', by: row };
}
