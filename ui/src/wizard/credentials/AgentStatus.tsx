import { useEffect, useState } from "react";
import { call, type AgentCheck, type ApiError } from "../../api";
import { Message } from "../../Message";

/** Whether the operator's SSH agent holds the pasted key: a live run logs in
 * through it (the app never has a pasted key's private half). */
export function AgentStatus({ publicKey, demo }: { publicKey: string; demo: boolean }) {
  const [check, setCheck] = useState<AgentCheck | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [asked, setAsked] = useState(0);
  // Asked when the key changes and on "Check again"; a late answer for an
  // earlier key is dropped.
  useEffect(() => {
    let live = true;
    call("ssh_agent_check", { text: publicKey })
      .then(
        (c) => {
          if (!live) return;
          setCheck(c);
          setError(null);
        },
        (e: ApiError) => live && setError(e.message),
      )
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [publicKey, asked]);
  const again = () => {
    setBusy(true);
    setAsked((n) => n + 1);
  };

  const held = check?.state === "held";
  const text = error ?? check?.message;
  if (!text) return null;
  return (
    <div className={held ? "hint agent-status" : "warning agent-status"} role="status" data-testid="agent-status" data-state={check?.state ?? "error"}>
      <p>
        {held ? "✓ " : "⚠ "}
        <Message text={text} />
        {!held && demo && " A demo run does not log in; a live run stops at Review without it."}
      </p>
      {!held && (
        <button type="button" className="secondary" disabled={busy} onClick={again}>
          Check the agent again
        </button>
      )}
    </div>
  );
}
