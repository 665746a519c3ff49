/** Small pieces every page uses: request id links, copyable JSON, the live indicator, errors. */
import { useState } from 'preact/hooks';
import { messageOf } from '../api.js';
import { json } from '../format.js';
import type { LiveState } from '../live.js';
import { invocationHref } from '../router.js';

/** Every request id shown is a link to its page. */
export function RequestLink({ id, short = false }: { id: string; short?: boolean }) {
  return (
    <a class="mono request-link" href={invocationHref(id)} title={id}>
      {short && id.length > 14 ? `${id.slice(0, 12)}…` : id}
    </a>
  );
}

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard) return navigator.clipboard.writeText(text);
  // Pages served over plain http to another host have no clipboard API: the old way still works.
  const area = document.createElement('textarea');
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<string | undefined>();
  const copy = () => {
    copyText(text).then(
      () => setDone('Copied'),
      () => setDone('Copy failed'),
    );
    setTimeout(() => setDone(undefined), 1500);
  };
  return (
    <button type="button" class="small" onClick={copy}>
      {done ?? label}
    </button>
  );
}

/** A JSON value as text: whatever it holds (HTML, script) is shown, never interpreted. */
export function JsonBlock({ value, title, testId }: { value: unknown; title: string; testId: string }) {
  const text = json(value);
  return (
    <section class="panel">
      <header class="panel-head">
        <h3>{title}</h3>
        <CopyButton text={text} />
      </header>
      <pre class="json" data-testid={testId}>
        {text}
      </pre>
    </section>
  );
}

const LIVE_LABELS: Record<LiveState, string> = {
  connecting: 'connecting…',
  live: 'live',
  stale: 'store unreachable, retrying',
  offline: 'offline',
};

export function LiveDot({ state }: { state: LiveState }) {
  return (
    <span class={`live live-${state}`} data-testid="live" data-state={state} title="Live updates (Server-Sent Events)">
      <span class="dot" />
      {LIVE_LABELS[state]}
    </span>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  return (
    <p class="error-note" role="alert">
      {messageOf(error)}
    </p>
  );
}
