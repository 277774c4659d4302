import { AnsiUp } from 'ansi_up';

/** Past this, a line is shown cut: one 10 MB line of minified output must not stall the page. */
export const MAX_SHOWN_CHARACTERS = 20_000;

/**
 * A log line as HTML: text escaped, SGR colours as `ansi-*` classes (themed by CSS variables,
 * so dark mode costs nothing), OSC 8 hyperlinks as links. ansi_up keeps colour state between
 * calls, and lines are rendered out of order as the user scrolls, so each line gets a fresh
 * converter: a colour left open on one line never bleeds into another.
 */
export function ansiToHtml(line: string): string {
  const converter = new AnsiUp();
  converter.use_classes = true;
  const shown = line.length > MAX_SHOWN_CHARACTERS ? line.slice(0, MAX_SHOWN_CHARACTERS) : line;
  const html = converter.ansi_to_html(shown);
  if (shown === line) return html;
  return `${html}<span class="cut"> … ${line.length - MAX_SHOWN_CHARACTERS} more characters</span>`;
}
