import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeProgram, renderCliPage } from './cli-page.ts';

function sampleProgram(): Command {
  const program = new Command('tool').description('A tool.').version('1.0.0');
  program
    .command('run')
    .summary('run a thing')
    .description('Run a thing, and say so')
    .argument('<target>', 'what to run')
    .requiredOption('--pool <name>', 'where')
    .option('--count <n>', 'how many', '3')
    .addOption(new Option('--mode <mode>', 'how').choices(['fast', 'slow']).env('TOOL_MODE'))
    .addOption(new Option('--secret', 'not shown').hideHelp())
    .addHelpText('after', '\nExample:\n  $ tool run x --pool linux');
  const db = program.command('db').summary('databases');
  db.command('copy').summary('copy one');
  return program;
}

describe('describeProgram', () => {
  it('walks the command tree the way --help does: sorted, hidden options left out', () => {
    const docs = describeProgram(sampleProgram());
    expect(docs.map((doc) => doc.path)).toEqual(['tool', 'tool db', 'tool db copy', 'tool run']);
    const run = docs.find((doc) => doc.path === 'tool run');
    expect(run?.usage).toBe('tool run [options] <target>');
    expect(run?.arguments).toEqual([
      { name: 'target', required: true, variadic: false, description: 'what to run', defaultValue: null, choices: [] },
    ]);
    expect(run?.options.map((option) => option.flags)).toEqual([
      '--pool <name>',
      '--count <n>',
      '--mode <mode>',
      '-h, --help',
    ]);
    expect(run?.options[0]?.required).toBe(true);
    expect(run?.options[1]?.defaultValue).toBe('3');
    expect(run?.options[2]).toMatchObject({ choices: ['fast', 'slow'], env: 'TOOL_MODE' });
    expect(run?.notes).toBe('Example:\n  $ tool run x --pool linux');
    expect(docs.find((doc) => doc.path === 'tool db')?.subcommands).toEqual(['tool db copy']);
  });

  it('renders a heading per command, nested by depth, with its options and examples', () => {
    const text = renderCliPage(describeProgram(sampleProgram()), 'sample.ts');
    expect(text).toContain('## tool run\n');
    expect(text).toContain('### tool db copy\n');
    expect(text).toContain('| `--count <n>` | `3` | how many |');
    expect(text).toContain('| `--pool <name>` | _required_ | where |');
    expect(text).toContain('| how; one of `fast`, `slow`; environment: `TOOL_MODE` |');
    expect(text).toContain('```text\nExample:\n  $ tool run x --pool linux\n```');
    expect(text).not.toContain('--secret');
  });
});
