/**
 * Live updates: one EventSource per view, pushed by the server when what it watches changes.
 * The page itself polls nothing; the browser reconnects a dropped stream on its own.
 */
import { useEffect, useState } from 'preact/hooks';
import { query } from './api.js';

export type LiveState = 'connecting' | 'live' | 'stale' | 'offline';

/** Calls `onUpdate` with each value the server pushes for `params`; returns the connection's state. */
export function useLive<T>(params: Record<string, string | number | undefined> | undefined, onUpdate: (value: T) => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const key = params === undefined ? '' : query(params);
  useEffect(() => {
    if (params === undefined) return;
    setState('connecting');
    const source = new EventSource(`api/live${key}`);
    source.addEventListener('update', (event) => {
      setState('live');
      onUpdate(JSON.parse((event as MessageEvent<string>).data) as T);
    });
    source.addEventListener('failure', () => setState('stale'));
    source.addEventListener('open', () => setState('live'));
    source.addEventListener('error', () => setState(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting'));
    return () => source.close();
    // `onUpdate` is a fresh closure each render; the stream depends on the parameters only.
  }, [key]);
  return state;
}
