// Asking before a destructive action (revoke a gateway, erase a resident's data): a dialog that
// says what will happen, with Cancel focused so a stray Enter does nothing. ConfirmButton wraps a
// button, the question and the action's busy and error states.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useI18n } from '../context.ts';

export interface ConfirmDialogProps {
  title: string;
  /** What will happen, in plain words ("The gateway can no longer connect until ..."). */
  consequence: string;
  confirmLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const { t } = useI18n();
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div class="dialog-backdrop">
      <div
        class="dialog panel"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-text"
        data-testid="confirm-dialog"
        onKeyDown={(e) => e.key === 'Escape' && !props.busy && props.onCancel()}
      >
        <h2 id="confirm-title">{props.title}</h2>
        <p id="confirm-text">{props.consequence}</p>
        {props.error && (
          <p class="error" role="alert">
            {props.error}
          </p>
        )}
        <div class="form-actions">
          <button
            type="button"
            class="btn btn-quiet"
            ref={cancel}
            onClick={props.onCancel}
            disabled={props.busy}
            data-testid="confirm-cancel"
          >
            {t('form.cancel')}
          </button>
          <button type="button" class="btn btn-danger" onClick={props.onConfirm} disabled={props.busy} data-testid="confirm-ok">
            {props.busy ? t('form.saving') : props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/** A button that asks first, then runs `action`; the dialog stays open with the error if it fails. */
export function ConfirmButton(props: {
  label: string;
  title: string;
  consequence: string;
  confirmLabel?: string;
  action: () => Promise<unknown>;
  testid?: string;
  danger?: boolean;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.action();
      setOpen(false);
    } catch (err) {
      setError(t('admin.error', { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class={props.danger === false ? 'btn btn-quiet' : 'btn btn-danger-quiet'}
        data-testid={props.testid}
        onClick={() => {
          setError(null);
          setOpen(true);
        }}
      >
        {props.label}
      </button>
      {open && (
        <ConfirmDialog
          title={props.title}
          consequence={props.consequence}
          confirmLabel={props.confirmLabel ?? props.label}
          busy={busy}
          error={error}
          onConfirm={() => void run()}
          onCancel={() => setOpen(false)}
        />
      )}
    </>
  );
}
