import { describe, expect, test } from 'vitest';
import { createProgram } from './program.ts';

function helpOf(names: string[]): string {
  const program = createProgram();
  let help = '';
  const command = names.reduce((parent, name) => {
    const child = parent.commands.find((candidate) => candidate.name() === name);
    if (!child) throw new Error(`no command ${name}`);
    return child;
  }, program);
  command.configureOutput({ writeOut: (text) => (help += text) });
  command.outputHelp();
  return help;
}

describe('the switchyard program', () => {
  const commands = createProgram().commands.map((command) => command.name());

  test('has every command', () => {
    expect(commands).toEqual([
      'demo',
      'server',
      'worker',
      'proxy',
      'signer',
      'sign',
      'validate',
      'push',
      'status',
      'stats',
      'logs',
      'watch',
      'cancel',
      'retrigger',
      'simulate',
      'tools',
      'checkout',
      'db',
      'blobs',
      'profile',
    ]);
  });

  test.each(commands)('`%s --help` describes it and gives an example', (name) => {
    const help = helpOf([name]);
    expect(help).toMatch(new RegExp(`^Usage: switchyard ${name}`));
    expect(help).toMatch(/Examples?:\n {2}\$ /);
  });

  test.each(['push', 'status', 'logs', 'watch', 'cancel', 'retrigger', 'worker', 'profile'])(
    '`%s` takes --server and --token from the environment',
    (name) => {
      const help = helpOf([name]);
      expect(help).toMatch(/env:\s+SWITCHYARD_SERVER/);
      expect(help).toMatch(/env:\s+SWITCHYARD_TOKEN/);
    },
  );
});
