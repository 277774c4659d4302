import type { LogSection } from '@switchyard/protocol/browser';

/**
 * Lines shown per page. Chromium stops a scroll container at 2^25 px (33,554,432): with 18 px
 * rows that is about 1.86 million lines, so a longer log is shown a million lines at a time,
 * each page read from the server by line ranges like any other.
 */
export const PAGE_LINES = 1_000_000;

export interface LogPage {
  index: number;
  /** First and last line of the page, 1-based and inclusive; last < first for an empty log. */
  first: number;
  last: number;
}

export function pageCount(lineCount: number): number {
  return Math.max(1, Math.ceil(lineCount / PAGE_LINES));
}

export function pageOfLine(line: number, lineCount: number): LogPage {
  const index = Math.min(Math.floor((Math.max(line, 1) - 1) / PAGE_LINES), pageCount(lineCount) - 1);
  return { index, first: index * PAGE_LINES + 1, last: Math.min((index + 1) * PAGE_LINES, lineCount) };
}

export type LogRow = { kind: 'section'; section: LogSection; expanded: boolean } | { kind: 'line'; line: number };

type Segment =
  | { start: number; kind: 'section'; section: LogSection; expanded: boolean }
  | { start: number; kind: 'lines'; from: number; to: number };

/**
 * The rows a page of a log shows: each step's section header, then its lines unless the
 * section is collapsed. Kept as segments (a few per step), so a million-line page costs a
 * binary search per row, not an array of a million rows.
 */
export class LogRows {
  private readonly segments: Segment[] = [];
  readonly rowCount: number;

  constructor(
    sections: readonly LogSection[],
    lineCount: number,
    readonly page: LogPage,
    isExpanded: (section: LogSection) => boolean,
  ) {
    let rows = 0;
    const addLines = (from: number, to: number) => {
      const a = Math.max(from, page.first);
      const b = Math.min(to, page.last);
      if (b < a) return;
      this.segments.push({ start: rows, kind: 'lines', from: a, to: b });
      rows += b - a + 1;
    };
    let covered = 0;
    for (const section of sections) {
      const last = section.firstLine + section.lineCount - 1;
      addLines(covered + 1, section.firstLine - 1);
      const overlaps = last >= page.first && section.firstLine <= page.last;
      const startsHere = section.firstLine >= page.first && section.firstLine <= page.last + 1;
      if (overlaps || (section.lineCount === 0 && startsHere)) {
        const expanded = isExpanded(section);
        this.segments.push({ start: rows, kind: 'section', section, expanded });
        rows += 1;
        if (expanded) addLines(section.firstLine, last);
      }
      covered = Math.max(covered, last);
    }
    addLines(covered + 1, lineCount);
    this.rowCount = rows;
  }

  rowAt(index: number): LogRow {
    const segment = this.segmentAt(index);
    if (segment.kind === 'section') return { kind: 'section', section: segment.section, expanded: segment.expanded };
    return { kind: 'line', line: segment.from + (index - segment.start) };
  }

  /** The row showing a line, or null when the line is in a collapsed section or on another page. */
  rowOfLine(line: number): number | null {
    for (const segment of this.segments) {
      if (segment.kind === 'lines' && line >= segment.from && line <= segment.to) {
        return segment.start + (line - segment.from);
      }
    }
    return null;
  }

  private segmentAt(index: number): Segment {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.segments[middle] as Segment).start <= index) low = middle;
      else high = middle - 1;
    }
    return this.segments[low] as Segment;
  }
}

/** The section a line belongs to, if any. */
export function sectionOfLine(sections: readonly LogSection[], line: number): LogSection | undefined {
  return sections.find((s) => line >= s.firstLine && line < s.firstLine + s.lineCount);
}
