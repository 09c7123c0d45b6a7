import type { ReactNode } from "react";
import { Message } from "../Message";

/** A label bound to its control, an optional hint, and the engine's error right below. */
export function Field(props: { id: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  const { id, label, hint, error, children } = props;
  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          <Message text={error} />
        </p>
      )}
    </div>
  );
}

export function describedBy(id: string, error?: string, hint?: string) {
  return error ? `${id}-error` : hint ? `${id}-hint` : undefined;
}
