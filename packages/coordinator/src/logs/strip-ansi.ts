/** CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks), as terminals read them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences start with ESC (0x1b)
const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** The text a terminal would show for a line, without its escape sequences. */
export function stripAnsi(line: string): string {
  return line.includes('\x1b') ? line.replace(ANSI_SEQUENCE, '') : line;
}
