/**
 * The charts (uPlot, half the script) load only when a page shows one: the list and invocation
 * pages, the ones opened most, parse and run less before their first rows.
 */
import { useEffect, useState } from 'preact/hooks';

type Charts = typeof import('./charts.js');
let loaded: Charts | undefined;
let loading: Promise<Charts> | undefined;

export function useCharts(): Charts | undefined {
  const [charts, setCharts] = useState(loaded);
  useEffect(() => {
    if (loaded) return;
    loading ??= import('./charts.js').then((module) => (loaded = module));
    void loading.then(setCharts);
  }, []);
  return charts;
}
