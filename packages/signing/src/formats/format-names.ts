/** What the signer makes. See docs/guide/signing.md for what each one does to its input. */
export const FORMATS = ['mar', 'mar-contents', 'gpg', 'authenticode', 'hash'] as const;
export type FormatName = (typeof FORMATS)[number];

/** Formats whose input is a file uploaded to the signer (`hash` is sent a digest instead). */
export const FILE_FORMATS = ['mar', 'mar-contents', 'gpg', 'authenticode'] as const satisfies readonly FormatName[];
export type FileFormatName = (typeof FILE_FORMATS)[number];

export function isFileFormat(name: string): name is FileFormatName {
  return (FILE_FORMATS as readonly string[]).includes(name);
}
