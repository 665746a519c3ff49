/** Status badges and the one palette the badges and the charts share. */
import type { Status } from '../types.js';

export const STATUS_COLORS: Record<Status, string> = {
  Enqueued: '#8a94a6',
  Running: '#2f6fd6',
  Retrying: '#e09b1a',
  Succeeded: '#1a9e5a',
  Failed: '#d64545',
  Stopping: '#9f7aea',
  Stopped: '#7c6fb0',
  Expired: '#b7791f',
  Invalid: '#c2417a',
};

export function StatusBadge({ status }: { status: Status }) {
  return (
    <span class={`badge badge-${status.toLowerCase()}`} data-status={status}>
      {status}
    </span>
  );
}
