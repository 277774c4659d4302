import Type from 'typebox';
import { Sha256Hex } from './artifacts.ts';
import { TOOL_FILENAME_PATTERN } from './text.ts';
import { TOOL_VISIBILITIES } from './tool-paths.ts';

export * from './tool-paths.ts';

export const Sha512Hex = Type.String({ pattern: '^[0-9a-f]{128}$', description: 'sha512, 128 lower-case hex digits' });

/** A tooltool filename: one path segment, not hidden. */
export const ToolFilename = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: TOOL_FILENAME_PATTERN,
  description: 'a file name without "/", "\\\\" or control characters, not starting with a dot',
});

export const ToolRecord = Type.Object({
  sha512: Sha512Hex,
  sha256: Sha256Hex,
  size: Type.Integer({ minimum: 0 }),
  visibility: Type.Enum<[...typeof TOOL_VISIBILITIES]>([...TOOL_VISIBILITIES], {
    description: 'public: anyone may download it; internal: the farm read rule applies',
  }),
  filenames: Type.Array(Type.String(), { description: 'every name this content was uploaded under, oldest first' }),
  uploadedAt: Type.String({ format: 'date-time', description: 'when it was first stored; ISO 8601, UTC' }),
});

export type ToolRecord = Type.Static<typeof ToolRecord>;

const TOOL_FILENAME = new RegExp(TOOL_FILENAME_PATTERN, 'u');

/** Whether a name is a tooltool filename (the same rule as the ToolFilename schema). */
export function isToolFilename(name: string): boolean {
  return name.length >= 1 && name.length <= 255 && TOOL_FILENAME.test(name);
}
