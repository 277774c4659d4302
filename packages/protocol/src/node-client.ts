import { type ClientOptions, SwitchyardClient } from './client.ts';
import { plainRequest } from './http-request.ts';

/**
 * The client as Node programs get it from the package's main entry: requests go through
 * node:http (see http-request.ts for why) unless another transport is given.
 */
export class NodeSwitchyardClient extends SwitchyardClient {
  constructor(options: ClientOptions) {
    super({ ...options, transport: options.transport ?? plainRequest });
  }
}
