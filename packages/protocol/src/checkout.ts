/** The step a worker runs first, unless a builder says `checkout: false`. */
export const CHECKOUT_STEP = 'checkout';
/** The step that fetches a builder's `tools:` manifest, after the checkout. */
export const TOOLS_STEP = 'fetch-tools';
