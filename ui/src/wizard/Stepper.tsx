import type { StepInfo } from "../api";

/** The header stepper: the current step, completed steps to jump back to, the rest locked. */
export function Stepper(props: { steps: StepInfo[]; current: number; completed: Set<number>; onJump: (i: number) => void }) {
  const { steps, current, completed, onJump } = props;
  return (
    <nav aria-label="Wizard steps" className="stepper">
      <ol>
        {steps.map((s, i) => {
          const done = completed.has(i);
          const reachable = done || i === current;
          return (
            <li key={s.step} className={`${i === current ? "current" : ""} ${done ? "done" : ""}`}>
              <button
                type="button"
                disabled={!reachable}
                aria-current={i === current ? "step" : undefined}
                onClick={() => onJump(i)}
                title={reachable ? s.title : `${s.title}: complete the steps before it first`}
              >
                <span className="num" aria-hidden="true">
                  {done && i !== current ? "✓" : s.number}
                </span>
                <span className="label">{s.title}</span>
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
