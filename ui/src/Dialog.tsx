import { useEffect, useRef, type FormEvent, type ReactNode } from "react";
import { createPortal } from "react-dom";

/**
 * Every dialog of the app behaves alike: Escape closes it (as its cancel
 * button would), Enter submits it (its body is a form), focus starts in the
 * field to type (or on the safe button when there is none), Tab stays inside,
 * and focus goes back where it was when it closes.
 */
export function Dialog(props: {
  titleId: string;
  bodyId: string;
  /** Escape and the backdrop's cancel; null while nothing may interrupt (a wipe under way). */
  onCancel: (() => void) | null;
  /** Enter; absent when the dialog has nothing to submit. */
  onSubmit?: () => void;
  /** Names what the dialog shows now: a new stage puts the focus in it again. */
  stage?: string;
  children: ReactNode;
}) {
  const box = useRef<HTMLFormElement>(null);

  // Focus goes back where it was when the dialog closes.
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  // On opening, and whenever the dialog moves to another stage (a question, then its report).
  useEffect(() => {
    const el = box.current;
    // The field to type first, else the button marked as the safe choice, else the first button.
    const first =
      el?.querySelector<HTMLElement>("input:not([type=checkbox]):not(:disabled), textarea") ??
      el?.querySelector<HTMLElement>("[data-initial-focus]") ??
      el?.querySelector<HTMLElement>("button:not(:disabled)");
    first?.focus();
  }, [props.stage]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      props.onCancel?.();
      return;
    }
    if (e.key !== "Tab" || !box.current) return;
    const items = [...box.current.querySelectorAll<HTMLElement>("a[href], button:not(:disabled), input:not(:disabled), select, textarea, summary, [tabindex='0']")];
    const head = items[0];
    const tail = items.at(-1);
    if (!head || !tail) return;
    if (e.shiftKey && document.activeElement === head) {
      e.preventDefault();
      tail.focus();
    } else if (!e.shiftKey && document.activeElement === tail) {
      e.preventDefault();
      head.focus();
    }
  };

  const submit = (e: FormEvent) => {
    // A dialog opened from a step must not also submit the step's form (React
    // events bubble through the portal to it).
    e.preventDefault();
    e.stopPropagation();
    props.onSubmit?.();
  };

  // On <body>: a form may not sit inside the step's form.
  return createPortal(
    <div className="dialog-backdrop">
      <form
        ref={box}
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={props.titleId}
        aria-describedby={props.bodyId}
        className="dialog"
        onKeyDown={onKeyDown}
        onSubmit={submit}
        noValidate
      >
        {props.children}
      </form>
    </div>,
    document.body,
  );
}

/** A yes/no question about something that cannot be taken back lightly. */
export function ConfirmDialog(props: {
  id: string;
  title: string;
  body: ReactNode;
  confirm: string;
  keep: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onKeep: () => void;
}) {
  return (
    <Dialog titleId={`${props.id}-title`} bodyId={`${props.id}-body`} onCancel={props.busy ? null : props.onKeep} onSubmit={props.onConfirm}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      <div id={`${props.id}-body`}>{props.body}</div>
      {props.error && (
        <p className="field-error" role="alert">
          {props.error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="secondary" data-initial-focus onClick={props.onKeep} disabled={props.busy}>
          {props.keep}
        </button>
        <button type="submit" className={props.danger ? "danger" : "primary"} disabled={props.busy}>
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
