import { buildProgram } from './build-program.ts';
import { addCancelCommand } from './commands/cancel.ts';
import { addCheckoutCommand } from './commands/checkout.ts';
import { addLogsCommand } from './commands/logs.ts';
import { addProxyCommand } from './commands/proxy.ts';
import { addPushCommand } from './commands/push.ts';
import { addRetriggerCommand } from './commands/retrigger.ts';
import { addSignCommand } from './commands/sign.ts';
import { addStatsCommand } from './commands/stats.ts';
import { addStatusCommand } from './commands/status.ts';
import { addToolsCommand } from './commands/tools.ts';
import { addWatchCommand } from './commands/watch.ts';
import { addWorkerCommand } from './commands/worker.ts';
import { runProgram } from './run-program.ts';

/**
 * The `switchyard` of the worker package (`npm run package`, scripts/package.ts): what a build
 * machine or a regional cache runs, and the client commands, none of which needs a native module.
 * The coordinator, the signer and the demo run from a checkout of the repository.
 */
await runProgram(
  buildProgram(
    [
      addWorkerCommand,
      addProxyCommand,
      addCheckoutCommand,
      addToolsCommand,
      addSignCommand,
      addPushCommand,
      addStatusCommand,
      addStatsCommand,
      addLogsCommand,
      addWatchCommand,
      addCancelCommand,
      addRetriggerCommand,
    ],
    `This is the worker package: the worker, the regional cache (proxy) and the client commands. The
coordinator and the signer run from a checkout of the repository (docs/guide/installing.md).`,
  ),
);
