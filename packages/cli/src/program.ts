import type { Command } from 'commander';
import { buildProgram } from './build-program.ts';
import { addBlobsCommand } from './commands/blobs.ts';
import { addCancelCommand } from './commands/cancel.ts';
import { addCheckoutCommand } from './commands/checkout.ts';
import { addDbCommand } from './commands/db.ts';
import { addDemoCommand } from './commands/demo.ts';
import { addLogsCommand } from './commands/logs.ts';
import { addProfileCommand } from './commands/profile.ts';
import { addProxyCommand } from './commands/proxy.ts';
import { addPushCommand } from './commands/push.ts';
import { addRetriggerCommand } from './commands/retrigger.ts';
import { addServerCommand } from './commands/server.ts';
import { addSignCommand } from './commands/sign.ts';
import { addSignerCommand } from './commands/signer.ts';
import { addSimulateCommand } from './commands/simulate.ts';
import { addStatsCommand } from './commands/stats.ts';
import { addStatusCommand } from './commands/status.ts';
import { addToolsCommand } from './commands/tools.ts';
import { addValidateCommand } from './commands/validate.ts';
import { addWatchCommand } from './commands/watch.ts';
import { addWorkerCommand } from './commands/worker.ts';

const START_HERE = `Start here:
  $ npm start                  a demo farm: a repository, a coordinator, two workers and a few pushes
  $ switchyard status          recent pushes and the workers
  $ switchyard watch           the live event stream`;

/** The `switchyard` command, with every command. */
export function createProgram(): Command {
  return buildProgram(
    [
      addDemoCommand,
      addServerCommand,
      addWorkerCommand,
      addProxyCommand,
      addSignerCommand,
      addSignCommand,
      addValidateCommand,
      addPushCommand,
      addStatusCommand,
      addStatsCommand,
      addLogsCommand,
      addWatchCommand,
      addCancelCommand,
      addRetriggerCommand,
      addSimulateCommand,
      addToolsCommand,
      addCheckoutCommand,
      addDbCommand,
      addBlobsCommand,
      addProfileCommand,
    ],
    START_HERE,
  );
}
