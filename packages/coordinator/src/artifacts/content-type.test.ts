import { describe, expect, it } from 'vitest';
import { artifactContentType } from './content-type.ts';

describe('artifactContentType', () => {
  it("keeps a client's specific type", () => {
    expect(artifactContentType('x.bin', 'application/x-mar')).toBe('application/x-mar');
    expect(artifactContentType('notes', 'text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
  });

  it('guesses from the name when the client sent none, a generic one or nonsense', () => {
    expect(artifactContentType('target.tar.gz', undefined)).toBe('application/gzip');
    expect(artifactContentType('target.tgz', 'application/octet-stream')).toBe('application/gzip');
    expect(artifactContentType('target.tar', 'not a type')).toBe('application/x-tar');
    expect(artifactContentType('report.txt', undefined)).toBe('text/plain; charset=utf-8');
    expect(artifactContentType('firefox.zip', '')).toBe('application/zip');
    expect(artifactContentType('blob', undefined)).toBe('application/octet-stream');
  });
});
