import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../packages/cli/src/program.ts';
import { SWITCHYARD_BIN } from '../helpers/processes.ts';

const run = promisify(execFile);
const UNITS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'systemd');
/** Where the worker package puts the command (npm install -g on Debian); the units name it. */
const INSTALLED = '/usr/local/bin/switchyard';

const scratch = await mkdtemp(join(tmpdir(), 'switchyard-units-'));
const units = (await readdir(UNITS)).filter((name) => name.endsWith('.service')).sort();

afterAll(() => rm(scratch, { recursive: true, force: true }));

/** The unit with its continuation lines joined. */
async function unitText(name: string): Promise<string> {
  return (await readFile(join(UNITS, name), 'utf8')).replace(/\\\n\s*/g, '');
}

/** The arguments ExecStart gives `switchyard`, with the specifiers systemd would fill in. */
function switchyardArguments(unit: string): string[] {
  const words =
    unit
      .match(/^ExecStart=(.*)$/m)?.[1]
      ?.trim()
      .split(/\s+/) ?? [];
  const command = words.findIndex((word) => word === INSTALLED || word.endsWith('/packages/cli/bin/switchyard.js'));
  expect(command, 'ExecStart runs switchyard').toBeGreaterThanOrEqual(0);
  return words.slice(command + 1).map((word) => word.replace('%H', 'build-1').replace('%d', '/run/credentials/unit'));
}

/** Every command of `program` and below, its action replaced by `reached`, and errors thrown instead of exiting. */
function dryRun(program: Command, reached: (name: string, options: Record<string, unknown>) => void): void {
  program.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const command of program.commands) {
    command.action((...args: unknown[]) => {
      const self = args.at(-1) as Command;
      reached(self.name(), self.opts());
    });
    dryRun(command, reached);
  }
}

describe('the systemd units in examples/systemd', () => {
  it('are the coordinator, worker, proxy and signer', () => {
    expect(units).toEqual([
      'switchyard-coordinator.service',
      'switchyard-proxy.service',
      'switchyard-signer.service',
      'switchyard-worker.service',
    ]);
  });

  it.each(units)('%s passes systemd-analyze verify', async (name) => {
    // The command the worker package installs is not on this machine: point at one that is.
    const unit = join(scratch, name);
    await writeFile(unit, (await readFile(join(UNITS, name), 'utf8')).replaceAll(INSTALLED, SWITCHYARD_BIN));
    const { stdout, stderr } = await run('systemd-analyze', ['verify', unit]);
    expect(`${stdout}${stderr}`).toBe('');
  });

  it.each(units)('%s starts switchyard with options it has', async (name) => {
    const args = switchyardArguments(await unitText(name));
    const reached: string[] = [];
    const program = createProgram();
    dryRun(program, (command) => reached.push(command));
    await program.parseAsync(args, { from: 'user' });
    const expected = { coordinator: 'server', worker: 'worker', proxy: 'proxy', signer: 'serve' };
    expect(reached).toEqual([expected[name.replace(/^switchyard-|\.service$/g, '') as keyof typeof expected]]);
  });

  it('the worker runs its steps as another user, with the capabilities to become it and no others', async () => {
    const unit = await unitText('switchyard-worker.service');
    expect(switchyardArguments(unit)).toContain('--run-as');
    expect(unit).toMatch(/^User=root$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    const capabilities = unit
      .match(/^CapabilityBoundingSet=(.*)$/m)?.[1]
      ?.split(/\s+/)
      .sort();
    expect(capabilities).toEqual([
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_KILL',
      'CAP_SETGID',
      'CAP_SETUID',
    ]);
  });

  it.each(units)('%s is hardened', async (name) => {
    const unit = await unitText(name);
    for (const setting of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes']) {
      expect(unit).toMatch(new RegExp(`^${setting}$`, 'm'));
    }
  });
});
