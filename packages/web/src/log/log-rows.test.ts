import type { LogSection } from '@switchyard/protocol/browser';
import { describe, expect, it } from 'vitest';
import { LogRows, PAGE_LINES, pageCount, pageOfLine, sectionOfLine } from './log-rows.ts';

function section(step: number, firstLine: number, lineCount: number, state: LogSection['state']): LogSection {
  return { step, name: `s${step}`, state, exitCode: state === 'success' ? 0 : 1, durationMs: 1, firstLine, lineCount };
}

const SECTIONS = [section(0, 1, 10, 'success'), section(1, 11, 5, 'failure'), section(2, 16, 0, 'success')];

describe('LogRows', () => {
  it('collapses passed steps to their header and keeps failed ones open', () => {
    const rows = new LogRows(SECTIONS, 15, pageOfLine(1, 15), (s) => s.state !== 'success');
    expect(rows.rowCount).toBe(1 + 1 + 5 + 1);
    expect(rows.rowAt(0)).toMatchObject({ kind: 'section', expanded: false });
    expect(rows.rowAt(1)).toMatchObject({ kind: 'section', section: { step: 1 }, expanded: true });
    expect(rows.rowAt(2)).toEqual({ kind: 'line', line: 11 });
    expect(rows.rowAt(6)).toEqual({ kind: 'line', line: 15 });
    expect(rows.rowAt(7)).toMatchObject({ kind: 'section', section: { step: 2 } });
    expect(rows.rowOfLine(3)).toBeNull();
    expect(rows.rowOfLine(12)).toBe(3);
  });

  it('shows every line when every section is open', () => {
    const rows = new LogRows(SECTIONS, 15, pageOfLine(1, 15), () => true);
    expect(rows.rowCount).toBe(3 + 15);
    expect(rows.rowOfLine(1)).toBe(1);
    expect(rows.rowOfLine(11)).toBe(12);
  });

  it('shows lines no section covers (a running step not yet reported)', () => {
    const rows = new LogRows([section(0, 1, 2, 'running')], 4, pageOfLine(1, 4), () => true);
    expect(rows.rowCount).toBe(5);
    expect(rows.rowAt(4)).toEqual({ kind: 'line', line: 4 });
  });

  it('pages a log longer than the browser can scroll', () => {
    const lineCount = 2 * PAGE_LINES + 10;
    expect(pageCount(lineCount)).toBe(3);
    const last = pageOfLine(lineCount, lineCount);
    expect(last).toEqual({ index: 2, first: 2 * PAGE_LINES + 1, last: lineCount });
    const rows = new LogRows([section(0, 1, lineCount, 'failure')], lineCount, last, () => true);
    expect(rows.rowCount).toBe(1 + 10);
    expect(rows.rowAt(10)).toEqual({ kind: 'line', line: lineCount });
    expect(rows.rowOfLine(5)).toBeNull();
  });

  it('finds the section of a line', () => {
    expect(sectionOfLine(SECTIONS, 12)?.step).toBe(1);
    expect(sectionOfLine(SECTIONS, 99)).toBeUndefined();
  });
});
