import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../packages/cli/src/program.ts';
import {
  anchors,
  codeBlocks,
  inlineCode,
  links,
  shellCommands,
  shellWords,
  switchyardInvocations,
} from './helpers/markdown.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const markdownIn = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `${dir}/${name}`);

/** The pages a reader is shown commands on: the README and the hand-written guides. */
const COMMAND_PAGES = ['README.md', 'CONTRIBUTING.md', ...markdownIn('docs/guide')];
/** Every hand-written page whose links must lead somewhere. */
const LINKED_PAGES = [
  ...COMMAND_PAGES,
  'CHANGELOG.md',
  'docs/ARCHITECTURE.md',
  ...readdirSync(join(ROOT, 'packages'))
    .map((pkg) => `packages/${pkg}/README.md`)
    .filter((path) => existsSync(join(ROOT, path))),
];

interface Shown {
  page: string;
  where: string;
  words: string[];
}

/** Every `switchyard …` a page shows: in shell and console blocks, and in inline code. */
function switchyardShown(page: string): Shown[] {
  const text = read(page);
  const fromBlocks = codeBlocks(text)
    .filter((block) => ['sh', 'console', 'bash', 'shell'].includes(block.lang))
    .flatMap((block) =>
      switchyardInvocations(shellCommands(block.text, block.lang)).map((words) => ({
        page,
        where: `code block at line ${block.line}`,
        words,
      })),
    );
  const fromInline = inlineCode(text)
    .filter((code) => /^(npx )?switchyard /.test(code))
    .flatMap((code) =>
      switchyardInvocations(shellCommands(code)).map((words) => ({ page, where: `\`${code}\``, words })),
    );
  return [...fromBlocks, ...fromInline];
}

/** What is wrong with `switchyard <words>` as the real program sees it, or null. */
function problemWith(program: Command, words: string[]): string | null {
  let command = program;
  let i = 0;
  // Descend through subcommands (`stats builders`, `tools fetch`, `db copy`).
  while (i < words.length && !(words[i] as string).startsWith('-')) {
    const child = command.commands.find((c) => c.name() === words[i]);
    if (!child) break;
    command = child;
    i++;
  }
  const next = words[i];
  if (command.commands.length > 0 && next !== undefined && !next.startsWith('-')) {
    const known = command.commands.map((c) => c.name()).filter((name) => name !== 'help');
    return `"${command.name()} ${next}": no such command (${known.join(', ')})`;
  }
  // `switchyard signer --config …` runs the subcommand marked as its default (commander keeps
  // its name in a field of its own), which takes the options.
  const defaultName = (command as Command & { _defaultCommandName?: string | null })._defaultCommandName;
  const fallback = defaultName ? command.commands.find((c) => c.name() === defaultName) : undefined;
  if (fallback) command = fallback;
  const options = command.options.flatMap((option) => [option.long, option.short]).filter(Boolean);
  for (const word of words.slice(i)) {
    if (!word.startsWith('-') || word === '-') continue;
    const name = word.split('=')[0] as string;
    if (name === '--help' || name === '-h') continue;
    if (!options.includes(name)) {
      return `"${command.name()}" has no option ${name} (it has ${options.join(' ')})`;
    }
  }
  return null;
}

describe('the docs', () => {
  it('keep the README under 12 KB and ARCHITECTURE under 15 KB', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThan(12 * 1024);
    expect(statSync(join(ROOT, 'docs/ARCHITECTURE.md')).size).toBeLessThan(15 * 1024);
  });

  it('open with the two commands of the quick start, which npm runs as the demo and vitest', () => {
    const blocks = codeBlocks(read('README.md')).filter((block) => block.section === 'Quick start');
    expect(blocks.map((block) => block.text)).toEqual(['npm install\nnpm start', 'npm test']);
    const scripts = JSON.parse(read('package.json')).scripts;
    expect(scripts.start).toBe('switchyard demo');
    expect(scripts.test).toBe('vitest run');
  });

  const program = createProgram();
  const shown = COMMAND_PAGES.flatMap(switchyardShown);

  it('show switchyard commands (the check below would pass on none)', () => {
    expect(shown.length).toBeGreaterThan(50);
    for (const page of ['README.md', 'docs/guide/running-a-farm.md', 'docs/guide/live-status.md']) {
      expect(shown.filter((s) => s.page === page).length).toBeGreaterThan(0);
    }
  });

  it('show only switchyard commands and options that exist', () => {
    const problems = shown.flatMap(({ page, where, words }) => {
      const problem = problemWith(program, words);
      return problem ? [`${page} (${where}): switchyard ${words.join(' ')}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('catch a command or an option that does not exist', () => {
    expect(problemWith(program, ['status', '--job', '3'])).toBeNull();
    expect(problemWith(program, ['stats', 'builders', '--repo', 'app'])).toBeNull();
    expect(problemWith(program, ['demo', '--no-keep-running'])).toBeNull();
    expect(problemWith(program, ['status', '--jobs', '3'])).toMatch(/no option --jobs/);
    expect(problemWith(program, ['stats', 'slowest'])).toMatch(/no such command/);
    expect(problemWith(program, ['tools', 'fetch', '--manifest=x', '--bogus'])).toMatch(/no option --bogus/);
  });

  it('run only npm scripts that exist', () => {
    const scriptsOf = (workspace?: string) =>
      JSON.parse(read(workspace ? `packages/${workspace.replace('@switchyard/', '')}/package.json` : 'package.json'))
        .scripts as Record<string, string>;
    const problems = COMMAND_PAGES.flatMap((page) =>
      codeBlocks(read(page))
        .filter((block) => ['sh', 'console', 'bash', 'shell'].includes(block.lang))
        .flatMap((block) => shellCommands(block.text, block.lang))
        .concat(
          inlineCode(read(page))
            // `npm run bench:<name>` names a family, not a script.
            .filter((code) => /^npm (run|start|test)\b/.test(code) && !code.includes('<'))
            .map((code) => shellWords(code)),
        )
        .filter((words) => words[0] === 'npm' && ['run', 'start', 'test'].includes(words[1] as string))
        .flatMap((words) => {
          const script = words[1] === 'run' ? (words[2] as string) : (words[1] as string);
          const workspaceFlag = words.indexOf('-w');
          const workspace = workspaceFlag === -1 ? undefined : words[workspaceFlag + 1];
          return script in scriptsOf(workspace) ? [] : [`${page}: ${words.join(' ')}: no script "${script}"`];
        }),
    );
    expect(problems).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const problems = LINKED_PAGES.flatMap((page) =>
      links(read(page)).flatMap((target) => {
        if (/^[a-z]+:/.test(target)) return [];
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURI(path));
        const shownAs = `${page}: ${target}`;
        if (!existsSync(file)) return [`${shownAs}: no ${relative(ROOT, file)}`];
        if (anchor === undefined || !file.endsWith('.md')) return [];
        return anchors(readFileSync(file, 'utf8')).has(anchor) ? [] : [`${shownAs}: no heading #${anchor}`];
      }),
    );
    expect(problems).toEqual([]);
  });
});
