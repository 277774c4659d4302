import Type, { type TStringOptions } from 'typebox';

/**
 * Characters no name or line of text may hold: C0 controls, DEL and C1 controls (a NUL can't go
 * into an environment variable, a file name or a PostgreSQL text; the others rewrite terminals
 * and split log lines), the bidi embeddings, overrides and isolates (they make text read other
 * than it is), and surrogates — in a pattern compiled with the `u` flag, as TypeBox and JSON
 * Schema validators compile them, these match only when unpaired, which UTF-8 can't encode.
 */
const CONTROL_AND_BIDI = '\\x00-\\x1F\\x7F-\\x9F\\u202A-\\u202E\\u2066-\\u2069\\uD800-\\uDFFF';
/** The same, less tab, line feed and carriage return, for text of several lines. */
const CONTROL_AND_BIDI_BUT_LINES =
  '\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F\\u202A-\\u202E\\u2066-\\u2069\\uD800-\\uDFFF';

/** One line of text: a branch glob, an author, a tag, a path. */
export const LINE_PATTERN = `^[^${CONTROL_AND_BIDI}]*$`;
/** Text that may have several lines: a commit message, a command, an environment value. */
export const TEXT_PATTERN = `^[^${CONTROL_AND_BIDI_BUT_LINES}]*$`;
/** Names used in URLs, routing keys and file names: no spaces, slashes or dots at the start. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
/** What a shell and `env` take as a variable's name. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** A branch as git allows it, less what no farm needs: whitespace, `~ ^ : ? * [ \`, controls. */
export const BRANCH_PATTERN = `^[^\\s~^:?*\\[\\\\${CONTROL_AND_BIDI}]+$`;
/** A directory of a sparse checkout: relative, without `..`. */
export const REPO_PATH_PATTERN = `^(?!/)(?!.*(^|/)\\.\\.(/|$))[^${CONTROL_AND_BIDI}]+$`;
/**
 * Where a webhook POSTs: http or https, and no `user:password@` — fetch refuses to send those,
 * and a URL is shown wherever the subscription is; the receiver checks the signature instead.
 */
export const WEBHOOK_URL_PATTERN = `^https?://[^/?#@\\s${CONTROL_AND_BIDI}]+([/?#][^\\s${CONTROL_AND_BIDI}]*)?$`;
/** A tooltool filename: one path segment, not hidden. */
export const TOOL_FILENAME_PATTERN = `^[^./\\\\${CONTROL_AND_BIDI}][^/\\\\${CONTROL_AND_BIDI}]*$`;
export const AMQP_URL_PATTERN = `^amqps?://[^\\s${CONTROL_AND_BIDI}]+$`;
export const POSTGRES_URL_PATTERN = `^postgres(ql)?://[^\\s${CONTROL_AND_BIDI}]+$`;

/** One line of text (see LINE_PATTERN). */
export function Line(options: TStringOptions = {}) {
  return Type.String({ ...options, pattern: LINE_PATTERN });
}

/** Text of one or more lines (see TEXT_PATTERN). */
export function Text(options: TStringOptions = {}) {
  return Type.String({ ...options, pattern: TEXT_PATTERN });
}

const WITHOUT_CONTROLS = 'control characters, bidi overrides or unpaired surrogates';

/**
 * What each pattern of the config and API schemas asks for, in words: the config loader and the
 * API say this instead of the pattern itself.
 */
const PATTERN_MEANINGS: Record<string, string> = {
  [NAME_PATTERN]: 'a name of letters, digits, ".", "_" or "-", starting with a letter or digit',
  '^[A-Za-z0-9][A-Za-z0-9._+-]*$': 'a name of letters, digits, ".", "_", "+" or "-", starting with a letter or digit',
  [ENV_NAME_PATTERN]: 'an environment variable name (letters, digits and "_", not starting with a digit)',
  [LINE_PATTERN]: `one line of text, without ${WITHOUT_CONTROLS}`,
  [TEXT_PATTERN]: `text without ${WITHOUT_CONTROLS} (tabs and line breaks are fine)`,
  [BRANCH_PATTERN]: `a branch name: no spaces, ${WITHOUT_CONTROLS}, and none of ~ ^ : ? * [ \\`,
  [REPO_PATH_PATTERN]: `a relative path inside the repository, without ".." or ${WITHOUT_CONTROLS}`,
  [TOOL_FILENAME_PATTERN]: `a file name without "/", "\\" or ${WITHOUT_CONTROLS}, not starting with a dot`,
  '^[0-9a-f]{64}$': 'a sha256 of 64 lower-case hex digits',
  '^[0-9a-f]{128}$': 'a sha512 of 128 lower-case hex digits',
  '^[0-9a-f]{7,64}$': 'a commit id of 7 to 64 lower-case hex digits',
  [WEBHOOK_URL_PATTERN]:
    'an http:// or https:// URL without spaces or user:password@ (a webhook carries no credentials: ' +
    'its receiver checks the switchyard-signature header, made with the secret)',
  [AMQP_URL_PATTERN]: 'an amqp:// or amqps:// URL without spaces or control characters',
  [POSTGRES_URL_PATTERN]: 'a postgres:// URL without spaces or control characters',
};

/** What a schema's pattern asks for in words; null for a pattern without a meaning here. */
export function patternMeaning(pattern: string): string | null {
  return PATTERN_MEANINGS[pattern] ?? null;
}

/** Past this, a value echoed in an error message is cut short. */
const ECHO_LIMIT = 100;

const UNSAFE_CHARACTER = new RegExp(`[${CONTROL_AND_BIDI}]`, 'gu');

/** Text with every character LINE_PATTERN refuses written as a `\uXXXX` escape, so it shows and does no harm. */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_CHARACTER, (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`);
}

/**
 * A value as an error message echoes it: quoted, with controls and bidi overrides escaped, and
 * cut to 100 characters with an ellipsis, so that a megabyte of input is not sent back.
 */
export function quoted(value: string): string {
  const text = escapeUnsafe(JSON.stringify(value.length > ECHO_LIMIT ? value.slice(0, ECHO_LIMIT) : value));
  return value.length > ECHO_LIMIT ? `${text.slice(0, -1)}…"` : text;
}
