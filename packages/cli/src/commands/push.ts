import { JOB_STATES, type Push } from '@switchyard/protocol';
import type { Command } from 'commander';
import { addConnectionOptions, type ConnectionOptions, connect, serverFlag } from '../connection.ts';
import { followEvents } from '../follow-events.ts';
import { formatEventLine } from '../format/event-line.ts';
import { formatRef } from '../format/labels.ts';
import { plural } from '../format/plural.ts';
import { formatNewJobTable } from '../format/push-views.ts';
import { summarizeStates } from '../format/states.ts';
import { type Style, styleFor } from '../format/style.ts';
import { JOB_STATE_EVENT_TYPES, JobTracker } from '../job-tracker.ts';
import { type PushFlags, resolvePushRequest } from '../push-request.ts';

interface PushOptions extends ConnectionOptions, PushFlags {
  wait?: boolean;
}

export function addPushCommand(program: Command): void {
  const command = program
    .command('push')
    .summary('announce a revision to the farm, starting its jobs')
    .description('Announce a revision to the farm, which starts the jobs of every builder that matches')
    .requiredOption('--repo <name>', 'the repository, as named in the farm configuration')
    .option('--branch <branch>', 'the branch (default: the current branch of the checkout)')
    .option('--rev <revision>', 'the commit (default: HEAD of the checkout)')
    .option('--author <author>', 'who made it (default: the commit author)')
    .option('--message <message>', 'what it is about (default: the commit subject)')
    .option('--exact', 'this revision itself must be built: never coalesce its jobs into a newer push')
    .option('--wait', 'wait until every job is final; exit 0 only if all succeeded');
  addConnectionOptions(command)
    .addHelpText(
      'after',
      `
Flags given are sent as given. Inside a git checkout that holds the commit, git fills in
what the flags leave out: the branch, revision, author, message and changed files; a checkout
without it (another repository's hook, a CI script) needs --branch and --rev.

Examples:
  $ switchyard push --repo demo --wait
  $ switchyard push --repo demo --branch release/1.0 --rev 3f2a1bc9`,
    )
    .action(async (options: PushOptions) => {
      const client = connect(options);
      const style = styleFor(process.stdout);
      const push = await client.createPush(await resolvePushRequest(options, process.cwd()));
      console.log(formatPushCreated(push, style, serverFlag(options.server)));
      if (!options.wait || push.jobs.length === 0) return;

      const tracker = new JobTracker();
      tracker.expect(push.jobs);
      tracker.seal();
      console.log(`\nwaiting for ${plural(push.jobs.length, 'job')} (Ctrl-C stops waiting, not the jobs)`);
      const follower = followEvents(client, { push: push.id, since: 0, types: [...JOB_STATE_EVENT_TYPES] }, (event) => {
        console.log(formatEventLine(event, style));
        tracker.observe(event);
      });
      try {
        await Promise.race([tracker.settled, follower.failed]);
      } finally {
        await follower.stop();
      }
      console.log(
        `\n${plural(push.jobs.length, 'job')} finished: ${summarizeStates(tracker.expectedStates(), JOB_STATES, style)}`,
      );
      process.exitCode = tracker.allSucceeded ? 0 : 1;
    });
}

function formatPushCreated(push: Push, style: Style, serverArgs: string): string {
  const heading = `${style('bold', `push ${push.id}`)}  ${formatRef(push)}  ${plural(push.jobs.length, 'job')}`;
  if (push.jobs.length === 0) return `${heading}\nno builder matches ${push.repo}/${push.branch}: nothing to run`;
  return [
    heading,
    formatNewJobTable(push, style),
    '',
    'follow it:',
    `  switchyard status --push ${push.id}${serverArgs}`,
    `  switchyard logs ${push.jobs[0]?.id} --follow${serverArgs}`,
    `  switchyard watch --repo ${push.repo} --branch ${push.branch}${serverArgs}`,
  ].join('\n');
}
