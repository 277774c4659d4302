import type { ToolVisibility } from '@switchyard/protocol';
import { expect, it } from 'vitest';
import type { NewTool } from '../port.ts';
import { expectRefusal } from './builders.ts';
import { describeStoreContract, SECOND } from './harness.ts';

const GCC = 'a'.repeat(128);
const RUST = 'b'.repeat(128);

function tool(sha512: string, filename: string | null, visibility: ToolVisibility = 'internal'): NewTool {
  return { sha512, sha256: sha512.slice(0, 64), size: 4096, visibility, filename };
}

describeStoreContract('tools', (t) => {
  it('records a tool with its blob and name, and more names for the same content', async () => {
    const first = await t.store.tools.record(tool(GCC, 'gcc.tar.xz'));
    expect(first).toEqual({
      created: true,
      tool: {
        sha512: GCC,
        sha256: GCC.slice(0, 64),
        size: 4096,
        visibility: 'internal',
        filenames: ['gcc.tar.xz'],
        uploadedAt: t.clock.iso(),
      },
    });
    t.clock.advance(SECOND);
    const again = await t.store.tools.record(tool(GCC, 'gcc-13.tar.xz'));
    expect(again.created).toBe(false);
    expect(again.tool.filenames).toEqual(['gcc.tar.xz', 'gcc-13.tar.xz']);
    expect(await t.store.tools.find(GCC)).toEqual(again.tool);
    expect(await t.store.tools.blobIsRecorded(GCC.slice(0, 64))).toBe(true);
    expect(await t.store.tools.visibilityOf(GCC)).toBe('internal');
  });

  it('knows nothing of a tool never uploaded', async () => {
    expect(await t.store.tools.find(GCC)).toBeNull();
    expect(await t.store.tools.visibilityOf(GCC)).toBeNull();
    expect(await t.store.tools.blobIsRecorded(GCC.slice(0, 64))).toBe(false);
  });

  it('refuses an upload that would change a tool’s visibility', async () => {
    await t.store.tools.record(tool(GCC, 'gcc.tar.xz', 'public'));
    const refusal = await expectRefusal(t.store.tools.record(tool(GCC, 'other', 'internal')), 'conflict');
    expect(refusal.details).toEqual({ visibility: 'public' });
    await expectRefusal(t.store.tools.addUpload(GCC, 'internal', 'other'), 'conflict');
    expect((await t.store.tools.find(GCC))?.filenames).toEqual(['gcc.tar.xz']);
  });

  it('records the name of an upload whose content is stored already, and says when it is not', async () => {
    await t.store.tools.record(tool(GCC, null));
    expect((await t.store.tools.addUpload(GCC, 'internal', null))?.filenames).toEqual([]);
    expect((await t.store.tools.addUpload(GCC, 'internal', 'gcc.tar.xz'))?.filenames).toEqual(['gcc.tar.xz']);
    expect(await t.store.tools.addUpload(RUST, 'internal', 'rust.tar.xz')).toBeNull();
  });

  it('lists tools newest first, or those uploaded under a name', async () => {
    await t.store.tools.record(tool(GCC, 'toolchain.tar.xz'));
    t.clock.advance(SECOND);
    await t.store.tools.record(tool(RUST, 'rust.tar.xz'));
    t.clock.advance(SECOND);
    await t.store.tools.addUpload(RUST, 'internal', 'toolchain.tar.xz');
    expect((await t.store.tools.list()).map((record) => record.sha512)).toEqual([RUST, GCC]);
    const named = await t.store.tools.list('toolchain.tar.xz');
    expect(named.map((record) => [record.sha512, record.filenames])).toEqual([
      [RUST, ['rust.tar.xz', 'toolchain.tar.xz']],
      [GCC, ['toolchain.tar.xz']],
    ]);
    expect(await t.store.tools.list('nothing.tar')).toEqual([]);
  });

  it('deletes a tool and its names, leaving its blob to the collector', async () => {
    await t.store.tools.record(tool(GCC, 'gcc.tar.xz'));
    await t.store.tools.delete(GCC);
    expect(await t.store.tools.find(GCC)).toBeNull();
    expect(await t.store.artifacts.unreferencedBlobs()).toEqual([GCC.slice(0, 64)]);
    await expectRefusal(t.store.tools.delete(GCC), 'not-found');
  });
});
