/** One invocation: what it is, its payload and outcome, its timeline, its log; Stop and Re-run. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, messageOf, post } from '../api.js';
import { ErrorNote, JsonBlock, LiveDot, RequestLink } from '../components/common.js';
import { ConfirmDialog } from '../components/confirm.js';
import { StatusBadge } from '../components/status.js';
import { duration, iso, when } from '../format.js';
import { useLive } from '../live.js';
import { invocationHref, listHref } from '../router.js';
import type { Detail, Session } from '../types.js';
import { ExecutionLog } from './log.js';
import { Timeline } from './timeline.js';

type Pending = 'stop' | 'rerun' | undefined;

export function InvocationPage({ requestId, session, onToast }: { requestId: string; session: Session; onToast: (text: string) => void }) {
  const [detail, setDetail] = useState<Detail | undefined>();
  const [logCursor, setLogCursor] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [confirm, setConfirm] = useState<Pending>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setDetail(undefined);
    setError(undefined);
    get<Detail>(`invocations/${encodeURIComponent(requestId)}`).then(setDetail, setError);
  }, [requestId]);
  const live = useLive<Detail | { notFound: true }>(error || !detail ? undefined : { topic: 'invocation', requestId }, (update) => {
    if ('notFound' in update) return;
    setDetail(update);
    setLogCursor(update.logCursor);
  });

  if (error) {
    return error instanceof ApiError && error.status === 404 ? (
      <div>
        <h2>Not found</h2>
        <p>
          No invocation has the request id <span class="mono">{requestId}</span> (it may have been pruned by retention).
        </p>
      </div>
    ) : (
      <ErrorNote error={error} />
    );
  }
  if (!detail) return <p class="muted">Loading…</p>;
  const { record } = detail;
  const now = Date.now();
  const running = !['Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid'].includes(record.status);

  const act = async () => {
    const action = confirm;
    if (!action) return;
    setBusy(true);
    try {
      if (action === 'stop') {
        const result = await post<{ status: string }>(`invocations/${encodeURIComponent(requestId)}/stop`);
        onToast(result.status === 'Stopping' ? 'Stopping: its worker is aborting it' : `Now ${result.status}`);
      } else {
        const result = await post<{ requestId: string }>(`invocations/${encodeURIComponent(requestId)}/rerun`);
        location.hash = invocationHref(result.requestId);
        onToast('Re-run enqueued');
      }
    } catch (e) {
      onToast(messageOf(e));
    } finally {
      setBusy(false);
      setConfirm(undefined);
    }
  };

  return (
    <div class="invocation" data-testid="invocation">
      <div class="page-head">
        <h2>
          <a href={listHref({ functionName: record.functionName })}>{record.functionName}</a> <StatusBadge status={record.status} />
        </h2>
        <LiveDot state={live} />
        {!session.readOnly && (
          <div class="actions">
            {detail.canStop && (
              <button type="button" class="danger" onClick={() => setConfirm('stop')} data-testid="stop">
                Stop
              </button>
            )}
            {detail.canRerun && (
              <button type="button" onClick={() => setConfirm('rerun')} data-testid="rerun">
                Re-run
              </button>
            )}
          </div>
        )}
      </div>
      <dl class="facts">
        <Fact label="Request id">
          <RequestLink id={record.requestId} />
        </Fact>
        {record.invocationId && <Fact label="Invocation id">{record.invocationId}</Fact>}
        {record.rerunOf && (
          <Fact label="Re-run of" testId="rerun-of">
            <RequestLink id={record.rerunOf} />
          </Fact>
        )}
        <Fact label="Created">
          <span title={iso(record.createdAt)}>{when(record.createdAt, now)}</span>
        </Fact>
        <Fact label="Scheduled">
          <span title={iso(record.scheduledAt)}>{when(record.scheduledAt, now)}</span>
        </Fact>
        <Fact label="Started">{record.startedAt ? <span title={iso(record.startedAt)}>{when(record.startedAt, now)}</span> : '–'}</Fact>
        <Fact label="Ended">{record.endedAt ? <span title={iso(record.endedAt)}>{when(record.endedAt, now)}</span> : '–'}</Fact>
        <Fact label="Attempts">{record.attempts}</Fact>
        <Fact label="Duration">{record.startedAt ? duration((record.endedAt ?? now) - record.startedAt) : '–'}</Fact>
        {record.condition ? <Fact label="Condition">{record.condition}</Fact> : null}
      </dl>
      <div class="columns">
        <JsonBlock title="Payload" value={record.payload} testId="payload" />
        {record.error ? (
          <section class="panel error-panel" data-testid="error">
            <header class="panel-head">
              <h3>Error</h3>
            </header>
            <p>
              <strong>{record.error.errorType}</strong>
            </p>
            <pre class="json">{record.error.errorMessage}</pre>
          </section>
        ) : record.result !== undefined ? (
          <JsonBlock title="Result" value={record.result} testId="result" />
        ) : (
          <section class="panel">
            <header class="panel-head">
              <h3>Result</h3>
            </header>
            <p class="muted">{running ? 'Not finished yet.' : 'None.'}</p>
          </section>
        )}
      </div>
      <Timeline record={record} now={now} />
      <ExecutionLog requestId={requestId} logCursor={logCursor} running={running} />
      {confirm && (
        <ConfirmDialog
          title={confirm === 'stop' ? 'Stop this invocation?' : 'Re-run this invocation?'}
          confirmLabel={confirm === 'stop' ? 'Stop 1 invocation' : 'Re-run 1 invocation'}
          danger={confirm === 'stop'}
          busy={busy}
          onConfirm={act}
          onCancel={() => setConfirm(undefined)}
        >
          <p data-testid="confirm-count">
            {confirm === 'stop'
              ? `Stop 1 invocation (${record.status}). A running handler is aborted through ctx.signal.`
              : 'Re-run 1 invocation: its payload runs again under a new request id.'}
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function Fact({ label, children, testId }: { label: string; children: preact.ComponentChildren; testId?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}
