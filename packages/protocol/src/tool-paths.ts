/**
 * The coordinator's tool store, tooltool-compatible: a file is at `<base>/sha512/<digest>`, so
 * any tooltool-style client fetches from it with base = `<coordinator>/api/v1/tools`. Kept apart
 * from the schemas in tools.ts so that the client and the CLI's client commands load no TypeBox.
 */
export const TOOLS_BASE_PATH = '/api/v1/tools';

/** `public` (anyone may download it) or `internal` (the farm's read rule applies), sent with an upload. */
export const TOOL_VISIBILITY_HEADER = 'x-tool-visibility';
/** The tooltool filename an upload is recorded under; the same content may have several. */
export const TOOL_FILENAME_HEADER = 'x-tool-filename';

export const TOOL_VISIBILITIES = ['public', 'internal'] as const;
export type ToolVisibility = (typeof TOOL_VISIBILITIES)[number];

/** Where a tool's bytes are, relative to the coordinator. */
export function toolPath(sha512: string): string {
  return `${TOOLS_BASE_PATH}/sha512/${sha512}`;
}

export function isToolVisibility(value: string): value is ToolVisibility {
  return (TOOL_VISIBILITIES as readonly string[]).includes(value);
}
