import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';
import { anchor, byText, code, generatedNotice, page, table } from './markdown.ts';

export interface ArgumentDoc {
  name: string;
  required: boolean;
  variadic: boolean;
  description: string;
  defaultValue: string | null;
  choices: string[];
}

export interface OptionDoc {
  flags: string;
  description: string;
  required: boolean;
  defaultValue: string | null;
  choices: string[];
  env: string | null;
}

/** A command as its `--help` shows it, in data. */
export interface CommandDoc {
  /** `switchyard db copy`. */
  path: string;
  usage: string;
  summary: string;
  description: string;
  arguments: ArgumentDoc[];
  options: OptionDoc[];
  /** What the command adds after its options in `--help`: notes and examples. */
  notes: string;
  /** The paths of its subcommands. */
  subcommands: string[];
}

/** What `addHelpText('after', …)` printed, gathered by replaying commander's help listeners. */
function helpAfter(command: Command): string {
  let text = '';
  const context = { error: false, command, write: (chunk: string) => (text += chunk) };
  // Commander's Command is an EventEmitter, though its typings don't say so.
  for (const listener of (command as unknown as EventEmitter).listeners('afterHelp')) listener(context);
  return text.replace(/^\n+|\s+$/g, '');
}

function shown(value: unknown): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Every visible command of `program`, depth first, commands sorted by name: the tree `--help`
 * walks, from commander's own objects (help's visible lists, so hidden ones stay hidden).
 */
export function describeProgram(program: Command): CommandDoc[] {
  const help = program.createHelp();
  const walk = (command: Command, parents: string[]): CommandDoc[] => {
    const path = [...parents, command.name()];
    const children = help.visibleCommands(command).filter((child) => child.name() !== 'help');
    children.sort((a, b) => byText(a.name(), b.name()));
    const doc: CommandDoc = {
      path: path.join(' '),
      // Commander's usage names the parent commands already.
      usage: help.commandUsage(command),
      summary: command.summary(),
      description: command.description(),
      arguments: help.visibleArguments(command).map((argument) => ({
        name: argument.name(),
        required: argument.required,
        variadic: argument.variadic,
        description: argument.description,
        defaultValue: argument.defaultValueDescription ?? shown(argument.defaultValue),
        choices: argument.argChoices ?? [],
      })),
      options: help.visibleOptions(command).map((option) => ({
        flags: option.flags,
        description: option.description,
        required: option.mandatory,
        defaultValue: option.defaultValueDescription ?? shown(option.defaultValue),
        choices: option.argChoices ?? [],
        env: option.envVar ?? null,
      })),
      notes: helpAfter(command),
      subcommands: children.map((child) => [...path, child.name()].join(' ')),
    };
    return [doc, ...children.flatMap((child) => walk(child, path))];
  };
  return walk(program, []);
}

function withChoices(description: string, choices: readonly string[], env: string | null): string {
  const parts = [description];
  if (choices.length > 0) parts.push(`one of ${choices.map(code).join(', ')}`);
  if (env) parts.push(`environment: ${code(env)}`);
  return parts.filter(Boolean).join('; ');
}

function renderCommand(doc: CommandDoc, level: number): string {
  const argumentTable =
    doc.arguments.length === 0
      ? null
      : table(
          ['Argument', 'Default', 'Description'],
          doc.arguments.map((a) => [
            code(`${a.required ? '<' : '['}${a.name}${a.variadic ? '...' : ''}${a.required ? '>' : ']'}`),
            a.defaultValue !== null ? code(a.defaultValue) : a.required ? '_required_' : '',
            withChoices(a.description, a.choices, null),
          ]),
        );
  const optionTable =
    doc.options.length === 0
      ? null
      : table(
          ['Option', 'Default', 'Description'],
          doc.options.map((o) => [
            code(o.flags),
            o.defaultValue !== null ? code(o.defaultValue) : o.required ? '_required_' : '',
            withChoices(o.description, o.choices, o.env),
          ]),
        );
  const subcommands =
    doc.subcommands.length === 0
      ? null
      : `Commands: ${doc.subcommands.map((path) => `[${code(path)}](#${anchor(path)})`).join(', ')}.`;
  return page([
    `${'#'.repeat(level)} ${doc.path}`,
    doc.description || doc.summary,
    `\`\`\`text\n${doc.usage}\n\`\`\``,
    argumentTable,
    optionTable,
    subcommands,
    doc.notes ? `\`\`\`text\n${doc.notes}\n\`\`\`` : null,
  ]).trimEnd();
}

/** The CLI reference: an index of the commands with their summaries, then each command in full. */
export function renderCliPage(commands: readonly CommandDoc[], source: string): string {
  const [root, ...rest] = commands;
  if (!root) throw new Error('the program has no commands');
  const index = table(
    ['Command', 'Summary'],
    rest.map((doc) => [`[${code(doc.path)}](#${anchor(doc.path)})`, doc.summary || doc.description]),
  );
  return page([
    generatedNotice(source),
    '# CLI reference',
    index,
    renderCommand({ ...root, subcommands: [] }, 2),
    ...rest.map((doc) => renderCommand(doc, doc.path.split(' ').length)),
  ]);
}
