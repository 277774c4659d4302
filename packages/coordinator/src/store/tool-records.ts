import { isToolVisibility, type ToolRecord, type ToolVisibility } from '@switchyard/protocol';
import type { Kysely, Selectable } from 'kysely';
import { conflict, notFound } from './errors.ts';
import { iso } from './mappers.ts';
import type { NewTool, ToolStore } from './port.ts';
import type { Database, ToolsTable } from './schema.ts';
import type { Store } from './store.ts';
import type { WriteContext } from './write-context.ts';

type ToolRow = Selectable<ToolsTable>;

/** The tool and tool-name tables: which contents the tool store holds, and under which names. */
export class ToolRecords implements ToolStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: Store,
  ) {}

  async find(sha512: string): Promise<ToolRecord | null> {
    const row = await this.db.selectFrom('tools').selectAll().where('sha512', '=', sha512).executeTakeFirst();
    return row ? toToolRecord(row, await namesOf(this.db, sha512)) : null;
  }

  async visibilityOf(sha512: string): Promise<string | null> {
    const row = await this.db.selectFrom('tools').select('visibility').where('sha512', '=', sha512).executeTakeFirst();
    return row?.visibility ?? null;
  }

  /** Whether the blob has a row (an artifact or a tool stored it). */
  async blobIsRecorded(sha256: string): Promise<boolean> {
    const row = await this.db.selectFrom('blobs').select('sha256').where('sha256', '=', sha256).executeTakeFirst();
    return row !== undefined;
  }

  /** Every tool, newest first; with a filename, those uploaded under it. */
  async list(filename?: string): Promise<ToolRecord[]> {
    let query = this.db.selectFrom('tools').selectAll();
    if (filename !== undefined) {
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('tool_names')
            .select('filename')
            .whereRef('tool_names.sha512', '=', 'tools.sha512')
            .where('tool_names.filename', '=', filename),
        ),
      );
    }
    const rows = await query.orderBy('uploaded_at', 'desc').orderBy('sha512').execute();
    let names = this.db.selectFrom('tool_names').select(['sha512', 'filename']);
    if (filename !== undefined) {
      names = names.where('sha512', 'in', (eb) =>
        eb.selectFrom('tool_names as named').select('named.sha512').where('named.filename', '=', filename),
      );
    }
    const grouped = groupNames(await names.orderBy('uploaded_at').orderBy('filename').execute());
    return rows.map((row) => toToolRecord(row, grouped.get(row.sha512) ?? []));
  }

  /**
   * Records an upload whose bytes are in their blob: the blob's row, the tool (or the one
   * already there, whose visibility must match: an upload never changes it), and the name.
   * `created` is false when the tool was stored already.
   */
  async record(tool: NewTool): Promise<{ tool: ToolRecord; created: boolean }> {
    return this.store.write(async (ctx) => {
      await ctx.trx
        .insertInto('blobs')
        .values({
          sha256: tool.sha256,
          size: tool.size,
          content_type: 'application/octet-stream',
          created_at: ctx.now,
        })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      const inserted = await ctx.trx
        .insertInto('tools')
        .values({
          sha512: tool.sha512,
          sha256: tool.sha256,
          size: tool.size,
          visibility: tool.visibility,
          uploaded_at: ctx.now,
        })
        .onConflict((oc) => oc.column('sha512').doNothing())
        .returning('sha512')
        .executeTakeFirst();
      if (!inserted) await this.sameVisibility(ctx, tool.sha512, tool.visibility);
      await this.addName(ctx, tool.sha512, tool.filename);
      return { tool: await this.read(ctx, tool.sha512), created: inserted !== undefined };
    });
  }

  /**
   * An upload of content stored already, answered without its body: records the name it came
   * under. Null when the tool is gone (deleted meanwhile), so the bytes have to come after all.
   */
  async addUpload(sha512: string, visibility: ToolVisibility, filename: string | null): Promise<ToolRecord | null> {
    return this.store.write(async (ctx) => {
      const exists = await ctx.trx.selectFrom('tools').select('sha512').where('sha512', '=', sha512).executeTakeFirst();
      if (!exists) return null;
      await this.sameVisibility(ctx, sha512, visibility);
      await this.addName(ctx, sha512, filename);
      return this.read(ctx, sha512);
    });
  }

  /** Forgets a tool and its names; its blob stays until the collector finds nothing else names it. */
  async delete(sha512: string): Promise<void> {
    await this.store.write(async (ctx) => {
      await ctx.trx.deleteFrom('tool_names').where('sha512', '=', sha512).execute();
      const deleted = await ctx.trx.deleteFrom('tools').where('sha512', '=', sha512).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) throw notFound(`no tool with sha512 ${sha512}`);
    });
  }

  /** Tooltool refuses to change a file's visibility through an upload, and so do we. */
  private async sameVisibility(ctx: WriteContext, sha512: string, wanted: ToolVisibility): Promise<void> {
    const row = await ctx.trx
      .selectFrom('tools')
      .select('visibility')
      .where('sha512', '=', sha512)
      .executeTakeFirstOrThrow();
    if (row.visibility !== wanted) {
      throw conflict(`this tool is stored as ${row.visibility}; an upload can't make it ${wanted}`, {
        visibility: row.visibility,
      });
    }
  }

  private async addName(ctx: WriteContext, sha512: string, filename: string | null): Promise<void> {
    if (filename === null) return;
    await ctx.trx
      .insertInto('tool_names')
      .values({ sha512, filename, uploaded_at: ctx.now })
      .onConflict((oc) => oc.columns(['sha512', 'filename']).doNothing())
      .execute();
  }

  private async read(ctx: WriteContext, sha512: string): Promise<ToolRecord> {
    const row = await ctx.trx.selectFrom('tools').selectAll().where('sha512', '=', sha512).executeTakeFirstOrThrow();
    return toToolRecord(row, await namesOf(ctx.trx, sha512));
  }
}

/** One tool's names, oldest first. */
async function namesOf(db: Kysely<Database>, sha512: string): Promise<string[]> {
  const rows = await db
    .selectFrom('tool_names')
    .select('filename')
    .where('sha512', '=', sha512)
    .orderBy('uploaded_at')
    .orderBy('filename')
    .execute();
  return rows.map((r) => r.filename);
}

function groupNames(rows: { sha512: string; filename: string }[]): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const row of rows) names.set(row.sha512, [...(names.get(row.sha512) ?? []), row.filename]);
  return names;
}

function toToolRecord(row: ToolRow, filenames: string[]): ToolRecord {
  if (!isToolVisibility(row.visibility)) throw new Error(`tool ${row.sha512} has visibility "${row.visibility}"`);
  return {
    sha512: row.sha512,
    sha256: row.sha256,
    size: row.size,
    visibility: row.visibility,
    filenames,
    uploadedAt: iso(row.uploaded_at),
  };
}
