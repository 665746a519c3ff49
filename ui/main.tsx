/** The page's entry point (bundled into dist/dashboard/assets/app.js). */
import { render } from 'preact';
import { preload } from './api.js';
import { App } from './app.js';
import { listRequest } from './pages/list.js';
import { parseHash } from './router.js';
import './styles.css';

// The first data requests leave now, not after the first paint (when effects run).
preload('session');
const route = parseHash(location.hash);
if (route.page === 'list') preload('invocations', listRequest(route.params));
if (route.page === 'invocation') preload(`invocations/${encodeURIComponent(route.requestId)}`);

render(<App />, document.getElementById('app')!);
