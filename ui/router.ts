/**
 * Routing on the URL's hash (`#/invocations?status=Failed`, `#/invocations/<requestId>`): the page
 * is always the mount point's `/`, so relative URLs hold under any prefix, and reloads and shared
 * links land on the same view.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'list'; readonly params: URLSearchParams }
  | { readonly page: 'invocation'; readonly requestId: string }
  | { readonly page: 'notFound' };

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#/, '') || '/';
  const q = text.indexOf('?');
  const path = q === -1 ? text : text.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : text.slice(q + 1));
  if (path === '/' || path === '') return { page: 'overview' };
  if (path === '/invocations') return { page: 'list', params };
  const m = /^\/invocations\/([^/]+)$/.exec(path);
  if (m) {
    try {
      return { page: 'invocation', requestId: decodeURIComponent(m[1]!) };
    } catch {
      return { page: 'notFound' };
    }
  }
  return { page: 'notFound' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function invocationHref(requestId: string): string {
  return `#/invocations/${encodeURIComponent(requestId)}`;
}

export function listHref(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return `#/invocations${text ? `?${text}` : ''}`;
}
