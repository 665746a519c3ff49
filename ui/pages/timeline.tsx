/**
 * An invocation's history as a bar (waiting, running, backing off, to scale) and as a list of
 * events grouped by attempt, with the queue wait and run time of each and the destination
 * deliveries after the outcome.
 */
import { RequestLink } from '../components/common.js';
import { StatusBadge, STATUS_COLORS } from '../components/status.js';
import { duration, iso, when } from '../format.js';
import type { InvocationEvent, InvocationRecord, Status } from '../types.js';

type Phase = 'wait' | 'run' | 'backoff' | 'stopping';

interface Segment {
  readonly phase: Phase;
  readonly from: number;
  readonly to: number;
  readonly attempt: number;
}

const PHASE_OF: Partial<Record<Status, Phase>> = { Enqueued: 'wait', Running: 'run', Retrying: 'backoff', Stopping: 'stopping' };
const PHASE_LABEL: Record<Phase, string> = { wait: 'queued', run: 'running', backoff: 'waiting to retry', stopping: 'stopping' };

/** A delivery event of a destination, recognised by the detail the engine writes. */
export function isDelivery(event: InvocationEvent): boolean {
  return /^(onSuccess|onFailure) deliver/.test(event.detail ?? '');
}

function segments(record: InvocationRecord, now: number): Segment[] {
  const events = record.events.filter((e) => !isDelivery(e));
  const out: Segment[] = [];
  events.forEach((event, i) => {
    const phase = PHASE_OF[event.status];
    if (!phase) return;
    const to = events[i + 1]?.at ?? record.endedAt ?? now;
    out.push({ phase, from: event.at, to: Math.max(event.at, to), attempt: event.attempt });
  });
  return out;
}

export function Timeline({ record, now }: { record: InvocationRecord; now: number }) {
  const parts = segments(record, now);
  const start = record.createdAt;
  const end = Math.max(record.endedAt ?? now, ...record.events.map((e) => e.at), start + 1);
  const span = end - start;
  const attempts = groupByAttempt(record.events);
  return (
    <section class="panel" data-testid="timeline">
      <header class="panel-head">
        <h3>Timeline</h3>
        <span class="muted">
          {duration(span)} from creation to {record.endedAt ? 'the outcome' : 'now'}
        </span>
      </header>
      <div class="bar" role="img" aria-label="Time spent queued, running and waiting to retry">
        {parts.map((p, i) => (
          <span
            key={i}
            class={`bar-part phase-${p.phase}`}
            title={`attempt ${p.attempt}: ${PHASE_LABEL[p.phase]} ${duration(p.to - p.from)}`}
            style={{ left: `${((p.from - start) / span) * 100}%`, width: `${Math.max(0.4, ((p.to - p.from) / span) * 100)}%` }}
          />
        ))}
      </div>
      <div class="bar-legend">
        {(['wait', 'run', 'backoff'] as const).map((phase) => (
          <span key={phase}>
            <span class={`swatch phase-${phase}`} /> {PHASE_LABEL[phase]}
          </span>
        ))}
      </div>
      <ol class="attempts">
        {attempts.map(([attempt, events]) => (
          <li key={attempt}>
            <div class="attempt-head">
              <strong>{attempt === 0 ? 'Accepted' : `Attempt ${attempt}`}</strong>
              <AttemptFigures events={events} all={record.events} record={record} now={now} />
            </div>
            <ul class="events">
              {events.map((e, i) => (
                <li key={i} class={isDelivery(e) ? 'delivery' : ''}>
                  <span class="mono muted offset" title={iso(e.at)}>
                    +{duration(e.at - start)}
                  </span>
                  {isDelivery(e) ? <span class="tag">destination</span> : <StatusBadge status={e.status} />}
                  <span class="detail">
                    <DetailText text={e.detail ?? ''} />
                  </span>
                  <span class="muted at">{when(e.at, now)}</span>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}

function groupByAttempt(events: readonly InvocationEvent[]): [number, InvocationEvent[]][] {
  const groups = new Map<number, InvocationEvent[]>();
  for (const e of events) groups.set(e.attempt, [...(groups.get(e.attempt) ?? []), e]);
  return [...groups.entries()].sort(([a], [b]) => a - b);
}

/** Queue wait (from the event before the attempt's start) and run time (to the event after it). */
function AttemptFigures({ events, all, record, now }: { events: InvocationEvent[]; all: readonly InvocationEvent[]; record: InvocationRecord; now: number }) {
  const started = events.find((e) => e.status === 'Running');
  if (!started) return null;
  const i = all.indexOf(started);
  const before = all[i - 1];
  const after = all.slice(i + 1).find((e) => !isDelivery(e) && e.status !== 'Stopping');
  // From acceptance or the failure before: includes a requested delay or the retry's backoff.
  const waited = before ? started.at - before.at : undefined;
  const ran = (after?.at ?? record.endedAt ?? now) - started.at;
  return (
    <span class="muted figures-inline">
      {waited !== undefined && <>waited {duration(waited)} · </>}
      {after ? `ran ${duration(ran)}` : <span style={{ color: STATUS_COLORS.Running }}>running for {duration(ran)}</span>}
    </span>
  );
}

/**
 * An event's detail with the request ids it names as links: the engine writes `rerun of <id>`
 * and `destination of <function> <id>` when it creates an invocation from another.
 */
function DetailText({ text }: { text: string }) {
  const m = /^(rerun of |destination of \S+ )(\S+)$/.exec(text);
  if (!m) return <>{text}</>;
  return (
    <>
      {m[1]}
      <RequestLink id={m[2]!} />
    </>
  );
}
