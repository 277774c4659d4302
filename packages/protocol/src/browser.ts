/**
 * The browser entry (`@switchyard/protocol/browser`): the contract (contract.ts) and the client
 * over fetch, with nothing that needs Node. The dashboard imports this.
 */
export * from './client.ts';
export * from './contract.ts';
