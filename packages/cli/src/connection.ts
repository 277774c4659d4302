import { DEFAULT_SERVER, SwitchyardClient } from '@switchyard/protocol';
import { type Command, Option } from 'commander';
import { parseServerUrl } from './option-parsers.ts';

export interface ConnectionOptions {
  server: string;
  token?: string;
}

/** Adds `--server` and `--token`, which default to $SWITCHYARD_SERVER and $SWITCHYARD_TOKEN. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--server <url>', 'coordinator URL')
        .env('SWITCHYARD_SERVER')
        .default(DEFAULT_SERVER)
        .argParser(parseServerUrl),
    )
    .addOption(new Option('--token <token>', 'API token, if the coordinator requires one').env('SWITCHYARD_TOKEN'));
}

export function connect(options: ConnectionOptions): SwitchyardClient {
  return new SwitchyardClient({ server: options.server, token: options.token });
}

/** The `--server` a suggested command needs to reach `server`, or nothing when it is already the default. */
export function serverFlag(server: string): string {
  return server === (process.env.SWITCHYARD_SERVER ?? DEFAULT_SERVER) ? '' : ` --server ${server}`;
}
