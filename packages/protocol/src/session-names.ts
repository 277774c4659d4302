/** The session cookie a signed-in browser holds (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'switchyard_session';
/** A cookie-authenticated request that changes something must repeat its session's CSRF token here. */
export const CSRF_HEADER = 'x-switchyard-csrf';
