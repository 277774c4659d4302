import { type ClientOptions, SwitchyardClient as FetchSwitchyardClient } from './client.ts';
import { plainRequest, plainStream } from './http-request.ts';

export { type ClientOptions, DEFAULT_SERVER, type EventStreamOptions, toRequestError } from './client.ts';

/**
 * The client as Node programs get it from the package's main entry: requests and streams go
 * through node:http (see http-request.ts for why) unless other transports are given.
 */
export class SwitchyardClient extends FetchSwitchyardClient {
  constructor(options: ClientOptions) {
    super({ ...options, transport: options.transport ?? plainRequest, stream: options.stream ?? plainStream });
  }
}
