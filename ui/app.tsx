/** The page's frame: header, navigation, the routed view, and short notices (toasts). */
import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { ErrorNote } from './components/common.js';
import { InvocationPage } from './pages/invocation.js';
import { ListPage } from './pages/list.js';
import { OverviewPage } from './pages/overview.js';
import { useRoute } from './router.js';
import type { Session } from './types.js';

/** Until the session arrives the pages load already, with no actions shown (they appear once it is known). */
const PENDING_SESSION: Session = { title: 'async-invoker', readOnly: true, maxBulk: 0, functions: [] };

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | undefined>();
  const [error, setError] = useState<unknown>();
  const [toast, setToast] = useState<{ text: string; id: number } | undefined>();

  useEffect(() => {
    get<Session>('session').then((s) => {
      setSession(s);
      document.title = s.title;
    }, setError);
  }, []);
  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(undefined), 5000);
    return () => clearTimeout(timer);
  }, [toast]);
  const onToast = (text: string) => setToast({ text, id: Date.now() });

  return (
    <>
      <header class="top">
        <h1>
          <a href="#/">{session?.title ?? 'async-invoker'}</a>
        </h1>
        <nav>
          <a href="#/" class={route.page === 'overview' ? 'active' : ''}>
            Overview
          </a>
          <a href="#/invocations" class={route.page === 'list' || route.page === 'invocation' ? 'active' : ''}>
            Invocations
          </a>
        </nav>
        {session?.readOnly === true && (
          <span class="read-only" data-testid="read-only" title="Stop and Re-run are off: no authorize option, or readOnly: true">
            read-only
          </span>
        )}
      </header>
      <main>
        {error !== undefined && <ErrorNote error={error} />}
        {route.page === 'overview' ? (
          <OverviewPage />
        ) : route.page === 'list' ? (
          <ListPage params={route.params} session={session ?? PENDING_SESSION} onToast={onToast} />
        ) : route.page === 'invocation' ? (
          <InvocationPage requestId={route.requestId} session={session ?? PENDING_SESSION} onToast={onToast} />
        ) : (
          <p>
            No such page. <a href="#/">Back to the overview</a>
          </p>
        )}
      </main>
      {toast && (
        <div class="toast" role="status" data-testid="toast" key={toast.id}>
          {toast.text}
        </div>
      )}
    </>
  );
}
