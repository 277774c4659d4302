import { isPolicyName, POLICY_NAMES } from '@switchyard/simulator/policy-names';
import { type Command, Option } from 'commander';
import { formatSimulationReport } from '../format/simulation-table.ts';
import { styleFor } from '../format/style.ts';

interface SimulateOptions {
  scenario: string;
  policy?: string[];
  json?: boolean;
}

export function addSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .summary('replay a workload against the scheduler on a virtual clock')
    .description(
      'Replay a scenario (a farm and its pushes) against the real scheduler on a virtual clock, under each policy, and report wait and end-to-end times per branch',
    )
    .requiredOption('--scenario <file>', 'the scenario file (YAML), e.g. examples/mozilla-2010.yaml')
    .addOption(
      new Option('--policy <name...>', 'the policies to compare (repeatable; default: all)').choices([...POLICY_NAMES]),
    )
    .option('--json', 'print one JSON object instead of tables')
    .addHelpText(
      'after',
      `
Policies:
  dedicated      every branch its own share of each pool, FIFO, a random free worker
  pooled-fifo    one pool shared by every branch, FIFO, a random free worker
  pooled-smart   Switchyard's scheduler: priorities with aging, coalescing, warm caches, speed, health

Examples:
  $ switchyard simulate --scenario examples/mozilla-2010.yaml
  $ switchyard simulate --scenario farm.yaml --policy pooled-fifo --policy pooled-smart --json`,
    )
    .action(async (options: SimulateOptions) => {
      // Loaded here, not at start-up: compiling the scenario schema would slow every other command.
      const { loadScenarioFile, simulatePolicies } = await import('@switchyard/simulator');
      const scenario = await loadScenarioFile(options.scenario);
      const policies = [...new Set(options.policy ?? POLICY_NAMES)].filter(isPolicyName);
      const progress = process.stderr.isTTY
        ? (name: string) => process.stderr.write(`simulating ${name}…\n`)
        : undefined;
      const report = simulatePolicies(scenario, policies, progress);
      console.log(
        options.json ? JSON.stringify(report, null, 2) : formatSimulationReport(report, styleFor(process.stdout)),
      );
    });
}
