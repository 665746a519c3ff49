/**
 * The page's HTML: a fixed shell that loads the built script and style by relative URLs, so the
 * dashboard works under any mount path (it is always served at the mount's `/`; the page routes
 * with the URL's hash). No user data is ever written into it: everything comes from the API and
 * is rendered as text.
 */
import type { Assets } from './assets.js';
import { SECURITY_HEADERS } from './reply.js';
import type { BodyReply } from './types.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pageReply(assets: Assets, title: string): BodyReply {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/app.css?v=${assets.versions['app.css']}">
<script type="module" src="assets/app.js?v=${assets.versions['app.js']}"></script>
${assets.preload.map((name) => `<link rel="modulepreload" href="assets/${name}">`).join('\n')}
</head>
<body>
<div id="app"><noscript>The dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: html,
  };
}

/** `/jobs` → `jobs/`: a relative redirect, right behind a proxy that strips or adds a prefix too. */
export function slashRedirect(clientPath: string, query: string): BodyReply {
  const last = clientPath.split('/').filter(Boolean).pop() ?? '';
  // `./` first: a segment such as `a:b` must not read as a scheme.
  const location = `./${last}${last === '' ? '' : '/'}${query === '' ? '' : `?${query}`}`;
  return { status: 308, headers: { ...SECURITY_HEADERS, location, 'cache-control': 'no-store' }, body: '' };
}
