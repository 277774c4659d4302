/**
 * The Node entry: everything the browser entry has, plus what needs Node (log frames over
 * Buffer, node:http requests, webhook signatures). Its `SwitchyardClient` sends over node:http.
 * Only `export *` here, as in contract.ts, which says why.
 */
export * from './contract.ts';
export * from './delivery-signature.ts';
export * from './http-request.ts';
export * from './job-token.ts';
export * from './log-frames.ts';
export * from './node-client.ts';
