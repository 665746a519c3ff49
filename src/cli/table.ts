/** Aligned plain-text tables: columns padded to their widest cell, two spaces apart, numbers right-aligned. */

export interface Column {
  readonly header: string;
  /** Right-align (numbers). @default false */
  readonly right?: boolean;
}

export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat(widths[i]! - width(cell));
        // The last column is not padded on the right: no trailing spaces.
        if (c.right) return pad + cell;
        return i === columns.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n');
}

/** Label/value lines: `Status     Failed`. */
export function fields(entries: readonly (readonly [string, string])[]): string {
  const labelWidth = Math.max(...entries.map(([label]) => width(label)));
  return entries
    .map(([label, value]) => {
      const indent = ' '.repeat(labelWidth + 2);
      const [first, ...rest] = value.split('\n');
      return [`${label.padEnd(labelWidth)}  ${first}`, ...rest.map((l) => indent + l)].join('\n');
    })
    .join('\n');
}

/** Cuts a one-line cell to `max` characters, ending with an ellipsis. */
export function clip(text: string, max: number): string {
  const one = text.replace(/\s*\n\s*/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Display width: code points (good enough for the ids, names and statuses shown). */
function width(text: string): number {
  return [...text].length;
}
