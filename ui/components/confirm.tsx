/** A modal confirmation (the native <dialog>): says what will happen, and to how many. */
import { useEffect, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';

export interface ConfirmProps {
  readonly title: string;
  readonly children: ComponentChildren;
  readonly confirmLabel: string;
  readonly danger?: boolean;
  readonly busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}

export function ConfirmDialog({ title, children, confirmLabel, danger = false, busy = false, onConfirm, onCancel }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} class="confirm" data-testid="confirm" onCancel={(e) => (e.preventDefault(), onCancel())}>
      <h3>{title}</h3>
      <div class="confirm-body">{children}</div>
      <div class="confirm-actions">
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" class={danger ? 'danger' : 'primary'} onClick={onConfirm} disabled={busy} data-testid="confirm-ok">
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
