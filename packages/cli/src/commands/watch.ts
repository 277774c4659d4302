import { EVENT_TYPES, type EventFilter } from '@switchyard/protocol';
import type { Command } from 'commander';
import { addConnectionOptions, type ConnectionOptions, connect } from '../connection.ts';
import { formatEventLine } from '../format/event-line.ts';
import { styleFor } from '../format/style.ts';
import { parseList, wholeNumber } from '../option-parsers.ts';

type WatchOptions = ConnectionOptions &
  Omit<EventFilter, 'job' | 'push'> & {
    since?: number;
    json?: boolean;
  };

export function addWatchCommand(program: Command): void {
  const command = program
    .command('watch')
    .summary('print the live event stream')
    .description('Print the live event stream, one line per event, until Ctrl-C')
    .option('--types <types>', 'only these event types, comma-separated', parseList)
    .option('--repo <name>', 'only events of this repository')
    .option('--branch <name>', 'only events of this branch')
    .option('--builder <name>', 'only events of this builder')
    .option('--result <state>', 'only events with this outcome (success, failure, exception, …)')
    .option('--author <who>', 'only events of pushes by this author: full, name or e-mail')
    .option('--routing-key <pattern>', 'only events whose routing key matches (* one word, # any number)')
    .option('--since <event-id>', 'first replay the events after this id (0: all that are kept)', wholeNumber(0))
    .option('--json', 'one JSON event per line');
  addConnectionOptions(command)
    .addHelpText(
      'after',
      `
Event types:
  ${EVENT_TYPES.join(' ')}

Examples:
  $ switchyard watch
  $ switchyard watch --types job.finished --repo demo --branch main
  $ switchyard watch --routing-key 'job.finished.demo.#' --result failure
  $ switchyard watch --types push.completed --author ada@example.org
  $ switchyard watch --since 0 --json > events.jsonl`,
    )
    .action(async (options: WatchOptions) => {
      const client = connect(options);
      // The stream reconnects quietly by itself, so check once that the coordinator answers at all.
      await client.info();
      process.stderr.write(`watching ${client.server} (Ctrl-C stops)\n`);
      const style = styleFor(process.stdout);
      const events = client.events({
        types: options.types,
        repo: options.repo,
        branch: options.branch,
        builder: options.builder,
        result: options.result,
        author: options.author,
        routingKey: options.routingKey,
        since: options.since,
      });
      for await (const event of events) {
        console.log(options.json ? JSON.stringify(event) : formatEventLine(event, style));
      }
    });
}
