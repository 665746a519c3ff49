/**
 * The execution log. Lines are fetched after a cursor; while the invocation runs, each live update
 * says how far the log goes and the missing lines are fetched then (no timer in the page).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { ErrorNote } from '../components/common.js';
import { iso, when } from '../format.js';
import type { LogLine, LogPage } from '../types.js';

const PAGE = 1000;

export function ExecutionLog({ requestId, logCursor, running }: { requestId: string; logCursor: number | undefined; running: boolean }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<unknown>();
  const cursor = useRef(0);
  const loading = useRef(false);
  const box = useRef<HTMLPreElement>(null);

  const load = async () => {
    if (loading.current) return;
    loading.current = true;
    try {
      for (;;) {
        const page = await get<LogPage>(`invocations/${encodeURIComponent(requestId)}/logs`, { after: cursor.current, limit: PAGE });
        if (page.lines.length) {
          const el = box.current;
          // Follow the tail only when the reader is at the bottom already.
          const atBottom = !el || el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          setLines((old) => [...old, ...page.lines]);
          if (atBottom) requestAnimationFrame(() => box.current && (box.current.scrollTop = box.current.scrollHeight));
        }
        cursor.current = page.nextCursor;
        if (page.lines.length < PAGE) break;
      }
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      loading.current = false;
    }
  };

  useEffect(() => {
    cursor.current = 0;
    setLines([]);
    void load();
  }, [requestId]);
  useEffect(() => {
    if (logCursor !== undefined && logCursor > cursor.current) void load();
  }, [logCursor]);

  return (
    <section class="panel" data-testid="log">
      <header class="panel-head">
        <h3>Execution log</h3>
        <span class="muted" data-testid="log-count">
          {lines.length} line{lines.length === 1 ? '' : 's'}
          {running ? ' · tailing' : ''}
        </span>
      </header>
      {error !== undefined && <ErrorNote error={error} />}
      {lines.length === 0 ? (
        <p class="muted empty">{running ? 'Nothing logged yet; lines appear here as the handler logs them (ctx.log).' : 'Nothing was logged (ctx.log, or captureConsole).'}</p>
      ) : (
        <pre class="log" ref={box} data-testid="log-lines">
          {lines.map((line) => (
            <div key={`${line.seq}:${line.at}`} class={`log-line level-${line.level}${line.dropped ? ' dropped' : ''}`}>
              <span class="muted" title={iso(line.at)}>
                {when(line.at)}
              </span>{' '}
              <span class="level">{line.level.toUpperCase().padEnd(5)}</span> <span class="muted">#{line.attempt}</span> <span class="message">{line.message}</span>
              {line.data !== undefined && <span class="data"> {JSON.stringify(line.data)}</span>}
            </div>
          ))}
        </pre>
      )}
    </section>
  );
}
