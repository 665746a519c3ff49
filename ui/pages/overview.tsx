/** The overview: per function, what waits and runs now and how the last hour went; live workers. */
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { useCharts } from '../components/lazy-charts.js';
import { ErrorNote, LiveDot } from '../components/common.js';
import { StatusBadge } from '../components/status.js';
import { ago, count, duration, when } from '../format.js';
import { useLive } from '../live.js';
import { listHref } from '../router.js';
import { FINISHED, type FunctionOverview, type Overview, type QueueMetrics } from '../types.js';

export function OverviewPage() {
  const [data, setData] = useState<Overview | undefined>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    get<Overview>('overview').then(setData, setError);
  }, []);
  const live = useLive<Overview>({ topic: 'overview' }, setData);
  if (error && !data) return <ErrorNote error={error} />;
  if (!data) return <p class="muted">Loading…</p>;
  const { total } = data;
  return (
    <div class="overview" data-testid="overview">
      <div class="page-head">
        <h2>Overview</h2>
        <LiveDot state={live} />
      </div>
      <div class="tiles">
        <Tile label="Waiting" value={count(total.depth)} href={listHref({ status: 'Enqueued,Retrying' })} />
        <Tile label="Running" value={count(total.running)} href={listHref({ status: 'Running,Stopping' })} />
        <Tile label="Oldest pending" value={total.depth ? duration(total.oldestPendingAgeMs) : '–'} />
        <Tile label="Succeeded, last hour" value={count(total.lastHour.Succeeded)} tone="ok" />
        <Tile label="Failed, last hour" value={count(total.lastHour.Failed)} tone={total.lastHour.Failed ? 'bad' : undefined} />
        {total.unserved > 0 && <Tile label="Waiting for a worker" value={count(total.unserved)} tone="bad" />}
      </div>
      {data.functions.length === 0 && <p class="muted">No functions yet: register one, or invoke one through a worker that shares this store.</p>}
      <div class="functions">
        {data.functions.map((fn) => (
          <FunctionCard key={fn.name} fn={fn} minutes={data.minutes} />
        ))}
      </div>
      <Workers workers={data.workers} now={data.now} />
    </div>
  );
}

function Tile({ label, value, href, tone }: { label: string; value: string; href?: string; tone?: 'ok' | 'bad' | undefined }) {
  const body = (
    <>
      <span class="tile-value">{value}</span>
      <span class="tile-label">{label}</span>
    </>
  );
  return href ? (
    <a class={`tile ${tone ?? ''}`} href={href}>
      {body}
    </a>
  ) : (
    <div class={`tile ${tone ?? ''}`}>{body}</div>
  );
}

const HELD_BY = { concurrency: 'concurrency limit', rate: 'rate limit', group: 'per-group limit' } as const;

function describeLimits(limits: NonNullable<QueueMetrics['limits']>): string {
  const parts: string[] = [];
  if (limits.concurrency !== undefined) parts.push(`${count(limits.concurrency)} running at once`);
  if (limits.perSecond !== undefined) parts.push(`${count(limits.perSecond)} starts per second`);
  if (limits.grouped) parts.push(limits.groupConcurrency === undefined ? 'groups served in turn' : `${count(limits.groupConcurrency)} per group at once`);
  return parts.join(' · ');
}

function FunctionCard({ fn, minutes }: { fn: FunctionOverview; minutes: number[] }) {
  const charts = useCharts();
  const { queue, lastHour } = fn;
  const finished = FINISHED.reduce((n, s) => n + lastHour[s], 0);
  return (
    <section class="panel function-card" data-testid={`function-${fn.name}`}>
      <header class="panel-head">
        <h3>
          <a href={listHref({ functionName: fn.name })}>{fn.name}</a>
        </h3>
        {!fn.registered && <span class="note">not registered in this process</span>}
        {queue.unserved > 0 && <span class="warn-chip">{count(queue.unserved)} waiting for a worker that runs it</span>}
        {queue.heldBackBy && (
          <span class="warn-chip" data-testid="held-back">
            held back by its {HELD_BY[queue.heldBackBy]}
          </span>
        )}
      </header>
      {queue.limits && (
        <p class="note" data-testid="limits">
          Limits across processes: {describeLimits(queue.limits)}
        </p>
      )}
      <dl class="figures">
        <div>
          <dt>Waiting</dt>
          <dd data-testid="depth">{count(queue.depth)}</dd>
        </div>
        <div>
          <dt>Running</dt>
          <dd data-testid="running">
            {count(queue.running)}
            {queue.limits?.concurrency !== undefined && <span class="of-limit"> / {count(queue.limits.concurrency)}</span>}
          </dd>
        </div>
        <div>
          <dt>Oldest pending</dt>
          <dd>{queue.depth ? duration(queue.oldestPendingAgeMs) : '–'}</dd>
        </div>
        <div>
          <dt>Wait p95</dt>
          <dd>{duration(fn.waitP95)}</dd>
        </div>
        <div>
          <dt>Run p95</dt>
          <dd>{duration(fn.runP95)}</dd>
        </div>
      </dl>
      <div class="status-counts" data-testid="status-counts">
        <a href={listHref({ functionName: fn.name, status: 'Enqueued,Retrying' })}>
          <StatusBadge status="Enqueued" /> {count(queue.depth)}
        </a>
        <a href={listHref({ functionName: fn.name, status: 'Running,Stopping' })}>
          <StatusBadge status="Running" /> {count(queue.running)}
        </a>
        {FINISHED.map((s) => (
          <a key={s} href={listHref({ functionName: fn.name, status: s, since: minutes[0] })} title={`${s} in the last hour`}>
            <StatusBadge status={s} /> {count(lastHour[s])}
          </a>
        ))}
      </div>
      <div class="charts">
        <figure>
          <figcaption>Finished per minute ({count(finished)} in the last hour)</figcaption>
          {charts ? <charts.OutcomeChart minutes={minutes} fn={fn} /> : <div class="chart chart-loading" />}
        </figure>
        <figure>
          <figcaption>Queue wait and run time, p50 and p95</figcaption>
          {charts ? <charts.LatencyChart minutes={minutes} fn={fn} /> : <div class="chart chart-loading" />}
        </figure>
      </div>
    </section>
  );
}

function Workers({ workers, now }: { workers: Overview['workers']; now: number }) {
  return (
    <section class="panel" data-testid="workers">
      <header class="panel-head">
        <h3>Live workers</h3>
        <span class="muted">{workers.length === 0 ? 'none: nothing runs handlers now' : `${workers.length}`}</span>
      </header>
      {workers.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>Host</th>
              <th>PID</th>
              <th>Concurrency</th>
              <th>Functions</th>
              <th>Started</th>
              <th>Worker id</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((w) => (
              <tr key={w.workerId}>
                <td>{w.host}</td>
                <td class="mono">{w.pid}</td>
                <td>{w.concurrency}</td>
                <td>{w.functions.join(', ') || '–'}</td>
                <td title={when(w.startedAt, now)}>{ago(w.startedAt, now)}</td>
                <td class="mono muted">{w.workerId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
