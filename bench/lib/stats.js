// Summaries over rounds and samples. Rounds are few (3..5): the median resists one noisy round
// on a shared 2-core machine better than the mean.
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of a numeric array (sorted in place: samples are throwaway). */
export function percentile(samples, p) {
  if (!samples.length) return undefined;
  const sorted = samples instanceof Float64Array ? samples.sort() : samples.sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const round = (value, digits = 2) => (value === undefined ? undefined : Number(value.toFixed(digits)));
