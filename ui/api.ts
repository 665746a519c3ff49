/**
 * Calls to the dashboard's API. Every URL is relative: the page is served at the mount point's
 * `/`, so `api/...` reaches this dashboard under whatever prefix it is mounted.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? 'HttpError', error?.message ?? `the server answered ${response.status}`);
  }
  return body as T;
}

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** Requests started before the first render (see main.tsx), handed to the first `get` of the same URL. */
const early = new Map<string, Promise<Response>>();

function request(url: string): Promise<Response> {
  return fetch(url, { headers: { accept: 'application/json' } });
}

/** Starts a GET now, while the page renders; the view's own `get` of the same URL picks it up. */
export function preload(path: string, params: Record<string, string | number | undefined> = {}): void {
  const url = `api/${path}${query(params)}`;
  early.set(url, request(url));
}

export async function get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const url = `api/${path}${query(params)}`;
  const started = early.get(url);
  early.delete(url);
  return parse<T>(await (started ?? request(url)));
}

/** Actions: POST without a body (parameters in the query); the browser adds the Origin the server checks. */
export async function post<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  return parse<T>(await fetch(`api/${path}${query(params)}`, { method: 'POST', headers: { accept: 'application/json' } }));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
