/** The invocation list: filters, cursor paging, live rows, and bulk actions on what the filter matches. */
import { useEffect, useState } from 'preact/hooks';
import { get, messageOf, post } from '../api.js';
import { ErrorNote, LiveDot, RequestLink } from '../components/common.js';
import { ConfirmDialog } from '../components/confirm.js';
import { StatusBadge } from '../components/status.js';
import { count, duration, iso, when } from '../format.js';
import { useLive } from '../live.js';
import { listHref } from '../router.js';
import type { BulkPreview, BulkResult, Session, SummaryPage } from '../types.js';
import { FilterBar, filterFrom, type Filter } from './filters.js';

const PAGE_SIZE = 50;

/** The list API's parameters for the page's URL parameters (main.tsx preloads the same). */
export function listRequest(params: URLSearchParams): Record<string, string | number | undefined> {
  return { ...filterFrom(params), cursor: params.get('cursor') ?? undefined, limit: PAGE_SIZE };
}

export function ListPage({ params, session, onToast }: { params: URLSearchParams; session: Session; onToast: (text: string) => void }) {
  const filter = filterFrom(params);
  const cursor = params.get('cursor') ?? undefined;
  const key = params.toString();
  const [page, setPage] = useState<SummaryPage | undefined>();
  const [error, setError] = useState<unknown>();
  const functions = session.functions.map((f) => f.name);
  const [bulk, setBulk] = useState<BulkPreview | undefined>();
  const [busy, setBusy] = useState(false);
  const request = listRequest(params);

  useEffect(() => {
    setPage(undefined);
    setError(undefined);
    get<SummaryPage>('invocations', request).then(setPage, setError);
  }, [key]);
  // The stream opens once the first page is in: the first read is not made twice.
  const live = useLive<SummaryPage>(error || !page ? undefined : { topic: 'list', ...request }, setPage);

  const apply = (f: Filter) => {
    location.hash = listHref({ ...f });
  };
  const older = page?.nextCursor ? listHref({ ...filter, cursor: page.nextCursor }) : undefined;

  const askBulk = async (action: 'stop' | 'rerun') => {
    try {
      setBulk(await get<BulkPreview>('bulk', { ...filter, action }));
    } catch (e) {
      onToast(messageOf(e));
    }
  };
  const runBulk = async () => {
    if (!bulk) return;
    setBusy(true);
    try {
      const result = await post<BulkResult>(`bulk/${bulk.action}`, { ...filter, until: bulk.until, max: bulk.count });
      const verb = result.action === 'stop' ? 'Stopped' : 'Re-ran';
      onToast(`${verb} ${count(result.done)} of ${count(result.matched)}${result.skipped ? `; ${count(result.skipped)} had nothing to do` : ''}${result.failed ? `; ${count(result.failed)} failed` : ''}`);
    } catch (e) {
      onToast(messageOf(e));
    } finally {
      setBusy(false);
      setBulk(undefined);
    }
  };

  return (
    <div class="list-page">
      <div class="page-head">
        <h2>Invocations</h2>
        <LiveDot state={live} />
      </div>
      <FilterBar key={key} filter={filter} functions={functions} onApply={apply} />
      {!session.readOnly && (
        <div class="bulk-bar">
          <span class="muted">Everything this filter matches:</span>
          <button type="button" onClick={() => askBulk('stop')} data-testid="bulk-stop">
            Stop…
          </button>
          <button type="button" onClick={() => askBulk('rerun')} data-testid="bulk-rerun">
            Re-run…
          </button>
        </div>
      )}
      {error !== undefined && <ErrorNote error={error} />}
      {!page && !error && <p class="muted">Loading…</p>}
      {page && <Rows page={page} />}
      <nav class="pager">
        {cursor && (
          <a class="button" href={listHref({ ...filter })}>
            ⟨⟨ Newest
          </a>
        )}
        {cursor && (
          <button type="button" onClick={() => history.back()}>
            ⟨ Newer
          </button>
        )}
        {older && (
          <a class="button" href={older} data-testid="older">
            Older ⟩
          </a>
        )}
      </nav>
      {bulk && (
        <ConfirmDialog
          title={bulk.action === 'stop' ? 'Stop invocations' : 'Re-run invocations'}
          confirmLabel={bulk.action === 'stop' ? `Stop ${count(bulk.count)}` : `Re-run ${count(bulk.count)}`}
          danger={bulk.action === 'stop'}
          busy={busy}
          onConfirm={runBulk}
          onCancel={() => setBulk(undefined)}
        >
          {bulk.count === 0 ? (
            <p>Nothing this filter matches can be {bulk.action === 'stop' ? 'stopped' : 're-run'} now.</p>
          ) : (
            <p data-testid="confirm-count">
              {bulk.action === 'stop' ? 'Stop' : 'Re-run'} <strong>{count(bulk.count)}</strong> invocation{bulk.count === 1 ? '' : 's'} matching this filter
              {bulk.action === 'stop' ? ' (Enqueued, Retrying or Running)' : ' (finished ones; each runs again under a new request id)'}?
            </p>
          )}
          {bulk.capped && <p class="warn-chip">More match: an action takes at most {count(session.maxBulk)}, the newest first.</p>}
        </ConfirmDialog>
      )}
    </div>
  );
}

function Rows({ page }: { page: SummaryPage }) {
  if (page.items.length === 0) return <p class="muted empty">No invocations match.</p>;
  const now = Date.now();
  return (
    <table class="table invocations" data-testid="invocations">
      <thead>
        <tr>
          <th>Request id</th>
          <th>Function</th>
          <th>Status</th>
          <th class="num">Attempts</th>
          <th>Created</th>
          <th class="num">Duration</th>
          <th>Invocation id</th>
          <th>Re-run of</th>
        </tr>
      </thead>
      <tbody>
        {page.items.map((r) => (
          <tr key={r.requestId} data-request-id={r.requestId}>
            <td>
              <RequestLink id={r.requestId} />
            </td>
            <td>{r.functionName}</td>
            <td>
              <StatusBadge status={r.status} />
              {r.errorType && <span class="muted small-text"> {r.errorType}</span>}
            </td>
            <td class="num">{r.attempts}</td>
            <td title={iso(r.createdAt)}>{when(r.createdAt, now)}</td>
            <td class="num">{r.startedAt === undefined ? '–' : duration((r.endedAt ?? now) - r.startedAt)}</td>
            <td class="mono">{r.invocationId ?? ''}</td>
            <td>{r.rerunOf && <RequestLink id={r.rerunOf} short />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
