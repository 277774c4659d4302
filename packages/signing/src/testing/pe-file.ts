/**
 * @module
 * Minimal but well-formed PE32 executables for tests and benchmarks: a DOS header, a PE header
 * with all sixteen data directories (the certificate table is where Authenticode goes) and one
 * code section holding `payload`. osslsigncode signs and verifies them as it would a real
 * Windows binary; nothing here runs them.
 */

const FILE_ALIGNMENT = 0x200;
const SECTION_ALIGNMENT = 0x1000;
const PE_OFFSET = 0x80;

export function makePeFile(payload: Buffer, options: { dll?: boolean } = {}): Buffer {
  const rawSize = Math.ceil(Math.max(payload.length, 1) / FILE_ALIGNMENT) * FILE_ALIGNMENT;
  const headersSize = FILE_ALIGNMENT;
  const file = Buffer.alloc(headersSize + rawSize);
  file.write('MZ', 0, 'latin1');
  file.writeUInt32LE(PE_OFFSET, 0x3c);
  file.write('PE\0\0', PE_OFFSET, 'latin1');
  const coff = PE_OFFSET + 4;
  file.writeUInt16LE(0x14c, coff); // i386
  file.writeUInt16LE(1, coff + 2); // one section
  file.writeUInt32LE(0, coff + 4); // timestamp: fixed, so equal payloads make equal files
  file.writeUInt16LE(224, coff + 16); // size of the PE32 optional header
  file.writeUInt16LE(options.dll ? 0x2102 : 0x0102, coff + 18);
  const optional = coff + 20;
  file.writeUInt16LE(0x10b, optional); // PE32
  file.writeUInt32LE(rawSize, optional + 4); // size of code
  file.writeUInt32LE(SECTION_ALIGNMENT, optional + 16); // entry point
  file.writeUInt32LE(SECTION_ALIGNMENT, optional + 20); // base of code
  file.writeUInt32LE(0x400000, optional + 28); // image base
  file.writeUInt32LE(SECTION_ALIGNMENT, optional + 32);
  file.writeUInt32LE(FILE_ALIGNMENT, optional + 36);
  file.writeUInt16LE(6, optional + 40); // OS version 6.0
  file.writeUInt16LE(6, optional + 48); // subsystem version 6.0
  const imageSize = SECTION_ALIGNMENT + Math.ceil(rawSize / SECTION_ALIGNMENT) * SECTION_ALIGNMENT;
  file.writeUInt32LE(imageSize, optional + 56);
  file.writeUInt32LE(headersSize, optional + 60);
  file.writeUInt16LE(3, optional + 68); // console subsystem
  file.writeUInt32LE(0x100000, optional + 72); // stack reserve
  file.writeUInt32LE(0x1000, optional + 76);
  file.writeUInt32LE(0x100000, optional + 80); // heap reserve
  file.writeUInt32LE(0x1000, optional + 84);
  file.writeUInt32LE(16, optional + 92); // data directories
  const section = optional + 224;
  file.write('.text', section, 'latin1');
  file.writeUInt32LE(payload.length, section + 8);
  file.writeUInt32LE(SECTION_ALIGNMENT, section + 12);
  file.writeUInt32LE(rawSize, section + 16);
  file.writeUInt32LE(headersSize, section + 20);
  file.writeUInt32LE(0x60000020, section + 36); // code, execute, read
  payload.copy(file, headersSize);
  return file;
}
