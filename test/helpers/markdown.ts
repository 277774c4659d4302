/**
 * Just enough Markdown and shell parsing for the docs tests to find what a page shows a reader:
 * its code blocks, the commands in them, its headings' anchors and its links.
 */

export interface CodeBlock {
  /** The info string after the opening fence: `sh`, `console`, `yaml`, or empty. */
  lang: string;
  text: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
  /** The `## ` section it is in ('' before the first). */
  section: string;
}

/** The fenced code blocks of a page, in order (fences of three or more backticks). */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  let open: { fence: string; lang: string; line: number; body: string[]; section: string } | null = null;
  let section = '';
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (open) {
      if (trimmed === open.fence) {
        blocks.push({ lang: open.lang, text: open.body.join('\n'), line: open.line, section: open.section });
        open = null;
      } else {
        open.body.push(raw);
      }
      return;
    }
    const fence = /^(`{3,})(.*)$/.exec(trimmed);
    if (fence) {
      open = { fence: fence[1] as string, lang: (fence[2] as string).trim(), line: index + 1, body: [], section };
    } else if (raw.startsWith('## ')) {
      section = raw.slice(3).trim();
    }
  });
  return blocks;
}

/** The page with its fenced code blocks blanked out, so that `#` lines in them are not headings. */
function prose(markdown: string): string {
  const fenced = new Set(
    codeBlocks(markdown).flatMap((block) =>
      Array.from({ length: block.text.split('\n').length + 2 }, (_, i) => block.line + i),
    ),
  );
  return markdown
    .split('\n')
    .map((line, index) => (fenced.has(index + 1) ? '' : line))
    .join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a page's headings make, with GitHub's `-1`, `-2` suffixes for repeats. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of prose(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] as string);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Every inline link and image target of a page, outside code. */
export function links(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] as string);
}

/** The inline code spans of a page's prose. */
export function inlineCode(markdown: string): string[] {
  return [...prose(markdown).matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string);
}

const OPERATORS = ['&&', '||', '|', ';', '>>', '>', '2>&1', '<'];

/**
 * A shell line split into words and operators the way `sh` would, near enough for commands
 * written in docs: quotes group, `$(…)` stays one word, an unquoted `#` starting a word ends the
 * line, and a backslash-newline joins lines.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  // `<worker token>`, `<name>`: a placeholder for the reader to fill in is one word, not redirections.
  const text = line.replace(/\\\n/g, ' ').replace(/<[^<>\n]*>/g, 'PLACEHOLDER');
  let word = '';
  let started = false;
  const finish = () => {
    if (started) words.push(word);
    word = '';
    started = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      word += text.slice(i + 1, end === -1 ? text.length : end);
      started = true;
      i = end === -1 ? text.length : end;
    } else if (c === '$' && text[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        if (text[j] === ')' && --depth === 0) break;
      }
      word += text.slice(i, j + 1);
      started = true;
      i = j;
    } else if (c === '#' && !started) {
      break;
    } else if (/\s/.test(c)) {
      finish();
    } else {
      // `2>&1` only as a word of its own: elsewhere a 2 is part of the word it is in.
      const operator = OPERATORS.find((op) => text.startsWith(op, i) && (op !== '2>&1' || !started));
      if (operator) {
        finish();
        words.push(operator);
        i += operator.length - 1;
      } else {
        word += c;
        started = true;
      }
    }
  }
  finish();
  return words;
}

/**
 * The simple commands of a shell text, each as its words without leading `NAME=value`
 * assignments or redirections. `$ ` prompts (console blocks) are dropped, and in a console block
 * only prompted lines are commands.
 */
export function shellCommands(text: string, lang = 'sh'): string[][] {
  const logical = text.replace(/\\\n/g, ' ').split('\n');
  const lines =
    lang === 'console' ? logical.filter((line) => line.startsWith('$ ')).map((line) => line.slice(2)) : logical;
  const commands: string[][] = [];
  for (const line of lines) {
    let current: string[] = [];
    const words = shellWords(line);
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as string;
      if (['&&', '||', '|', ';'].includes(word)) {
        commands.push(current);
        current = [];
      } else if (['>', '>>', '<'].includes(word)) {
        i++;
      } else if (word === '2>&1') {
        // a redirection with no target word
      } else if (current.length === 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
        // an environment assignment for the command that follows
      } else {
        current.push(word);
      }
    }
    commands.push(current);
  }
  return commands.filter((command) => command.length > 0);
}

/** The arguments of each `switchyard …` (or `npx switchyard …`) among `commands`. */
export function switchyardInvocations(commands: string[][]): string[][] {
  return commands.flatMap((command) => {
    const words = command[0] === 'npx' ? command.slice(1) : command;
    return words[0] === 'switchyard' ? [words.slice(1)] : [];
  });
}
