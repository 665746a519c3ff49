/** The list's filter bar: function, statuses, time range, request id, invocation-id prefix. */
import { useState } from 'preact/hooks';
import { fromLocalInput, toLocalInput } from '../format.js';
import { STATUSES, type Status } from '../types.js';

export interface Filter {
  readonly functionName?: string;
  readonly status?: string;
  readonly since?: number;
  readonly until?: number;
  readonly requestId?: string;
  readonly invocationIdPrefix?: string;
}

export function filterFrom(params: URLSearchParams): Filter {
  const num = (key: string) => {
    const v = params.get(key);
    return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const text = (key: string) => params.get(key) || undefined;
  return {
    functionName: text('functionName'),
    status: text('status'),
    since: num('since'),
    until: num('until'),
    requestId: text('requestId'),
    invocationIdPrefix: text('invocationIdPrefix'),
  };
}

const RANGES: [string, string, number | undefined][] = [
  ['any', 'Any time', undefined],
  ['15m', 'Last 15 minutes', 15 * 60_000],
  ['1h', 'Last hour', 3600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
  ['custom', 'Custom range…', undefined],
];

export function FilterBar({ filter, functions, onApply }: { filter: Filter; functions: string[]; onApply: (f: Filter) => void }) {
  const [functionName, setFunction] = useState(filter.functionName ?? '');
  const [statuses, setStatuses] = useState<Status[]>(() => (filter.status ? (filter.status.split(',') as Status[]) : []));
  const [range, setRange] = useState(filter.since !== undefined || filter.until !== undefined ? 'custom' : 'any');
  const [since, setSince] = useState(toLocalInput(filter.since));
  const [until, setUntil] = useState(toLocalInput(filter.until));
  const [requestId, setRequestId] = useState(filter.requestId ?? '');
  const [prefix, setPrefix] = useState(filter.invocationIdPrefix ?? '');

  const toggle = (s: Status) => setStatuses((list) => (list.includes(s) ? list.filter((x) => x !== s) : [...list, s]));
  const apply = (e: Event) => {
    e.preventDefault();
    const preset = RANGES.find(([key]) => key === range)?.[2];
    onApply({
      functionName: functionName || undefined,
      status: statuses.length ? STATUSES.filter((s) => statuses.includes(s)).join(',') : undefined,
      since: range === 'custom' ? fromLocalInput(since) : preset !== undefined ? Date.now() - preset : undefined,
      until: range === 'custom' ? fromLocalInput(until) : undefined,
      requestId: requestId.trim() || undefined,
      invocationIdPrefix: prefix.trim() || undefined,
    });
  };
  const names = functionName && !functions.includes(functionName) ? [functionName, ...functions] : functions;
  return (
    <form class="filters" onSubmit={apply} data-testid="filters">
      <label>
        Function
        <select value={functionName} onChange={(e) => setFunction(e.currentTarget.value)} name="functionName">
          <option value="">All functions</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <label>
        Time
        <select value={range} onChange={(e) => setRange(e.currentTarget.value)} name="range">
          {RANGES.map(([key, label]) => (
            <option key={key} value={key}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {range === 'custom' && (
        <>
          <label>
            From
            <input type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} name="since" />
          </label>
          <label>
            To
            <input type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)} name="until" />
          </label>
        </>
      )}
      <label>
        Request id
        <input type="search" value={requestId} onInput={(e) => setRequestId(e.currentTarget.value)} name="requestId" placeholder="exact id" spellcheck={false} />
      </label>
      <label>
        Invocation id
        <input type="search" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} name="invocationIdPrefix" placeholder="starts with" spellcheck={false} />
      </label>
      <fieldset class="status-toggles">
        <legend>Status</legend>
        {STATUSES.map((s) => (
          <label key={s} class={`toggle ${statuses.includes(s) ? 'on' : ''}`}>
            <input type="checkbox" checked={statuses.includes(s)} onChange={() => toggle(s)} name={`status-${s}`} />
            {s}
          </label>
        ))}
      </fieldset>
      <div class="filter-actions">
        <button type="submit" class="primary">
          Apply
        </button>
        <a class="button" href="#/invocations">
          Clear
        </a>
      </div>
    </form>
  );
}
