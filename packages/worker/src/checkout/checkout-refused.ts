/**
 * The request itself can't be checked out: a revision that is not a full id, or that the
 * repository answered it does not have, or options its VCS lacks. Trying again elsewhere would
 * fail the same way, unlike a network failure or a damaged store.
 */
export class CheckoutRefused extends Error {
  override readonly name = 'CheckoutRefused';
}
