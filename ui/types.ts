/** The dashboard API's answers, as the page reads them (mirrors src/dashboard/*.ts; the page does not import server code). */

export const STATUSES = ['Enqueued', 'Running', 'Retrying', 'Succeeded', 'Failed', 'Stopping', 'Stopped', 'Expired', 'Invalid'] as const;
export type Status = (typeof STATUSES)[number];
export const FINISHED = ['Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid'] as const;
export type Finished = (typeof FINISHED)[number];
export const STOPPABLE: readonly Status[] = ['Enqueued', 'Retrying', 'Running'];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface FunctionInfo {
  readonly name: string;
  readonly maxAsyncRetryAttempts: number;
  readonly maxAsyncEventAgeInSeconds: number;
  readonly timeoutSeconds?: number;
  readonly destinations: { readonly onSuccess?: string; readonly onFailure?: string };
}

export interface Session {
  readonly title: string;
  readonly readOnly: boolean;
  readonly maxBulk: number;
  readonly functions: FunctionInfo[];
}

export interface QueueMetrics {
  readonly depth: number;
  readonly running: number;
  readonly oldestPendingAgeMs: number;
  readonly unserved: number;
  /** Limits across processes, as registered in the serving process. */
  readonly limits?: { readonly concurrency?: number; readonly perSecond?: number; readonly groupConcurrency?: number; readonly grouped?: boolean };
  /** Which limit held the function's due work back at the serving process's latest claim. */
  readonly heldBackBy?: 'concurrency' | 'rate' | 'group';
}

export interface FunctionOverview {
  readonly name: string;
  readonly registered: boolean;
  readonly queue: QueueMetrics;
  readonly lastHour: Record<Finished, number>;
  readonly waitP95: number | null;
  readonly runP95: number | null;
  readonly series: {
    readonly finished: Record<Finished, number[]>;
    readonly waitP50: (number | null)[];
    readonly waitP95: (number | null)[];
    readonly runP50: (number | null)[];
    readonly runP95: (number | null)[];
  };
}

export interface Worker {
  readonly workerId: string;
  readonly functions: readonly string[];
  readonly host: string;
  readonly pid: number;
  readonly concurrency: number;
  readonly startedAt: number;
  readonly expiresAt: number;
}

export interface Overview {
  readonly now: number;
  readonly minutes: number[];
  readonly total: QueueMetrics & { readonly lastHour: Record<Finished, number> };
  readonly functions: FunctionOverview[];
  readonly workers: Worker[];
}

export interface Summary {
  readonly requestId: string;
  readonly functionName: string;
  readonly status: Status;
  readonly attempts: number;
  readonly createdAt: number;
  readonly scheduledAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly invocationId?: string;
  readonly rerunOf?: string;
  readonly errorType?: string;
}

export interface SummaryPage {
  readonly items: Summary[];
  readonly nextCursor?: string;
}

export interface InvocationEvent {
  readonly at: number;
  readonly status: Status;
  readonly attempt: number;
  readonly detail?: string;
}

export interface InvocationRecord extends Summary {
  readonly payload: Json;
  readonly result?: Json;
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  readonly condition?: string;
  readonly events: readonly InvocationEvent[];
}

export interface Detail {
  readonly record: InvocationRecord;
  readonly canStop: boolean;
  readonly canRerun: boolean;
  /** On live updates: how far the execution log goes. */
  readonly logCursor?: number;
}

export interface LogLine {
  readonly seq: number;
  readonly at: number;
  readonly attempt: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly data?: Json;
  readonly dropped?: number;
}

export interface LogPage {
  readonly lines: LogLine[];
  readonly nextCursor: number;
  readonly dropped: number;
}

export interface BulkPreview {
  readonly action: 'stop' | 'rerun';
  readonly count: number;
  readonly capped: boolean;
  readonly until: number;
}

export interface BulkResult {
  readonly action: 'stop' | 'rerun';
  readonly matched: number;
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
}
