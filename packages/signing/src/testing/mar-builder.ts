import type { MarEntry } from '../mar/mar-file.ts';
import { PRODUCT_INFO_SECTION } from '../mar/mar-file.ts';
import { writeMar } from '../mar/write-mar.ts';

export interface MarInput {
  entries: MarEntry[];
  /** Old-format MARs have no product information (nor signatures). */
  productInfo?: { channel: string; version: string };
  format?: 'new' | 'old';
}

/**
 * An unsigned MAR, as a build would hand it to the signer. The product information block is
 * padded to 96 bytes as Firefox's C tool writes it (build-mar writes the exact length).
 */
export function buildMar(input: MarInput): Buffer {
  if (input.format === 'old') return buildOldFormatMar(input.entries);
  const sections = input.productInfo
    ? [{ id: PRODUCT_INFO_SECTION, payload: productInfoPayload(input.productInfo.channel, input.productInfo.version) }]
    : [];
  return writeMar(input.entries, sections, []).bytes;
}

function productInfoPayload(channel: string, version: string): Buffer {
  const text = Buffer.from(`${channel}\0${version}\0`, 'latin1');
  const payload = Buffer.alloc(Math.max(96, text.length));
  text.copy(payload);
  return payload;
}

/** MAR1, the index offset, the contents from offset 8, then the index: no signature or section blocks. */
function buildOldFormatMar(entries: MarEntry[]): Buffer {
  const contents = Buffer.concat(entries.map((entry) => entry.data));
  let offset = 8;
  const index = Buffer.concat(
    entries.map((entry) => {
      const record = Buffer.alloc(12);
      record.writeUInt32BE(offset, 0);
      record.writeUInt32BE(entry.data.length, 4);
      record.writeUInt32BE(entry.flags, 8);
      offset += entry.data.length;
      return Buffer.concat([record, Buffer.from(`${entry.name}\0`, 'latin1')]);
    }),
  );
  const header = Buffer.alloc(8);
  header.write('MAR1', 0, 'ascii');
  header.writeUInt32BE(8 + contents.length, 4);
  const indexSize = Buffer.alloc(4);
  indexSize.writeUInt32BE(index.length);
  return Buffer.concat([header, contents, indexSize, index]);
}
