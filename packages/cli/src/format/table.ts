import Table from 'cli-table3';
import type { Style } from './style.ts';

export type TableCell = string | number;

const BORDERLESS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** A borderless table with bold headings, aligned like `ls -l`; cells may carry colour. */
export function formatTable(head: readonly string[], rows: readonly TableCell[][], style: Style): string {
  const table = new Table({
    head: head.map((heading) => style('bold', heading)),
    chars: BORDERLESS,
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] },
  });
  table.push(...rows);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
