import { styleText } from 'node:util';

export type StyleFormat = Parameters<typeof styleText>[0];

/** Applies a text format (colour or modifier). Formatters take one so tests can run them without colour. */
export type Style = (format: StyleFormat, text: string) => string;

export const plainStyle: Style = (_format, text) => text;

export const colorStyle: Style = (format, text) => styleText(format, text, { validateStream: false });

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  return stream.isTTY && !env.NO_COLOR ? colorStyle : plainStyle;
}
