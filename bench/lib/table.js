// Plain-text table for the terminal (and, in markdown form, for the README draft).
const fmt = (value, digits = 0) =>
  value === undefined || value === null ? '' : typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(value);

export const COLUMNS = [
  ['workload', (r) => r.workload],
  ['system', (r) => r.system],
  ['conc', (r) => fmt(r.concurrency)],
  ['n', (r) => fmt(r.n)],
  ['ops/s', (r) => fmt(r.opsPerSec)],
  ['p50 ms', (r) => fmt(r.p50Ms, 1)],
  ['p99 ms', (r) => fmt(r.p99Ms, 1)],
  ['ratio', (r) => (r.ratio === undefined ? '' : `${fmt(r.ratio, 2)}×${r.vs ? ` ${r.vs}` : ''}`)],
  ['durability', (r) => r.durability ?? ''],
  ['note', (r) => [r.bytesPerPending !== undefined ? `${Math.round(r.bytesPerPending)} B/pending` : '', r.totalMs !== undefined ? `total ${Math.round(r.totalMs)} ms vs ideal ${Math.round(r.idealMs)} ms` : '', r.note ?? ''].filter(Boolean).join('; ')],
];

const numeric = new Set(['conc', 'n', 'ops/s', 'p50 ms', 'p99 ms']);

export function textTable(rows) {
  const cells = rows.map((row) => COLUMNS.map(([, get]) => get(row)));
  const widths = COLUMNS.map(([name], i) => Math.max(name.length, ...cells.map((c) => c[i].length)));
  const line = (values) => values.map((v, i) => (numeric.has(COLUMNS[i][0]) ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(COLUMNS.map(([name]) => name)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function markdownTable(rows) {
  const head = `| ${COLUMNS.map(([name]) => name).join(' | ')} |`;
  const sep = `| ${COLUMNS.map(([name]) => (numeric.has(name) ? '---:' : '---')).join(' | ')} |`;
  return [head, sep, ...rows.map((row) => `| ${COLUMNS.map(([, get]) => get(row)).join(' | ')} |`)].join('\n');
}
