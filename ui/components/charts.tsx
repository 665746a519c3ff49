/**
 * The overview's charts, drawn by uPlot on a canvas: small, fast with thousands of points, and
 * with a cursor legend that reads out each minute.
 */
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { duration } from '../format.js';
import { FINISHED, type FunctionOverview } from '../types.js';
import { STATUS_COLORS } from './status.js';

const AXIS = { stroke: '#8a8f98', grid: { stroke: 'rgba(128,128,128,0.14)', width: 1 }, ticks: { stroke: 'rgba(128,128,128,0.3)', width: 1 } };

/** Short axis labels: 10 ms, 1 s, 100 s, 17 min. */
function axisDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 600_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** A uPlot chart bound to a container: created once, fed new data, resized with its box. */
function useChart(make: (width: number) => uPlot.Options, data: uPlot.AlignedData, deps: string) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const chart = new uPlot(make(Math.max(200, el.clientWidth)), data, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: chart.height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series change shape; new values go through setData below.
  }, [deps]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return box;
}

/** Finished per minute, stacked by outcome (each series is drawn as the running total up to it). */
export function OutcomeChart({ minutes, fn }: { minutes: number[]; fn: FunctionOverview }) {
  const xs = minutes.map((m) => m / 1000);
  const raw = FINISHED.map((s) => fn.series.finished[s]);
  const stacked: number[][] = [];
  raw.forEach((values, i) => stacked.push(values.map((v, j) => v + (i > 0 ? stacked[i - 1]![j]! : 0))));
  // Tallest first, so each shorter stack is painted over it and every outcome keeps its band.
  const order = FINISHED.map((_, i) => FINISHED.length - 1 - i);
  const data: uPlot.AlignedData = [xs, ...order.map((i) => stacked[i]!)];
  const box = useChart(
    (width) => ({
      width,
      height: 150,
      legend: { show: true, live: true },
      cursor: { points: { show: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
      axes: [{ ...AXIS }, { ...AXIS, size: 40, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) }],
      series: [
        { value: (_u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })) },
        ...order.map((i) => ({
          label: FINISHED[i]!,
          stroke: STATUS_COLORS[FINISHED[i]!],
          fill: STATUS_COLORS[FINISHED[i]!],
          width: 0,
          paths: uPlot.paths.bars!({ size: [0.85, 24], gap: 1 }),
          points: { show: false },
          // The legend reads the minute's own count, not the running total drawn.
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => (idx == null ? '–' : String(raw[i]![idx] ?? 0)),
        })),
      ],
    }),
    data,
    'outcomes',
  );
  return <div class="chart" ref={box} data-testid={`chart-outcomes-${fn.name}`} />;
}

/** Queue wait and run time per minute, p50 and p95, on a log scale (milliseconds to minutes). */
export function LatencyChart({ minutes, fn }: { minutes: number[]; fn: FunctionOverview }) {
  const xs = minutes.map((m) => m / 1000);
  // A log scale has no zero: sub-millisecond figures are drawn at 1 ms.
  const clamp = (values: (number | null)[]) => values.map((v) => (v === null ? null : Math.max(1, v)));
  const { waitP50, waitP95, runP50, runP95 } = fn.series;
  const data: uPlot.AlignedData = [xs, clamp(waitP50), clamp(waitP95), clamp(runP50), clamp(runP95)];
  const line = (label: string, stroke: string, dash?: number[]) => ({
    label,
    stroke,
    width: 2,
    ...(dash ? { dash } : {}),
    spanGaps: false,
    points: { show: true, size: 4 },
    value: (_u: uPlot, v: number | null) => duration(v),
  });
  const box = useChart(
    (width) => ({
      width,
      height: 150,
      legend: { show: true, live: true },
      scales: { x: { time: true }, y: { distr: 3, log: 10 } },
      // Labels on powers of ten only: a log axis has nine ticks per decade.
      axes: [{ ...AXIS }, { ...AXIS, size: 60, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(Math.round(Math.log10(t) * 1e6) / 1e6) ? axisDuration(t) : '')) }],
      series: [
        { value: (_u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })) },
        line('wait p50', '#8a94a6', [4, 3]),
        line('wait p95', '#5b6577'),
        line('run p50', '#6f9ee8', [4, 3]),
        line('run p95', '#2f6fd6'),
      ],
    }),
    data,
    'latency',
  );
  return <div class="chart" ref={box} data-testid={`chart-latency-${fn.name}`} />;
}
