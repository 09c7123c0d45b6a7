import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { call, type DemoScenario, type Estimate, type FieldError, type StepInfo, type WizardAnswers, type WizardChange } from "../api";
import { Stepper } from "./Stepper";
import { errorLookup, type StepProps, type WizardData } from "./types";
import { OrganisationStep } from "./organisation/OrganisationStep";
import { TopologyStep } from "./topology/TopologyStep";
import { ProviderStep } from "./provider/ProviderStep";
import { CredentialsStep } from "./credentials/CredentialsStep";
import { ComponentsStep } from "./components/ComponentsStep";
import { DomainStep } from "./domain/DomainStep";
import { ReviewStep } from "./review/ReviewStep";
import { ConfirmDialog } from "../Dialog";
import { Message } from "../Message";

const BODIES: Record<StepInfo["step"], (p: StepProps) => React.JSX.Element> = {
  organisation: OrganisationStep,
  topology: TopologyStep,
  provider: ProviderStep,
  credentials: CredentialsStep,
  components: ComponentsStep,
  domain: DomainStep,
  review: ReviewStep,
};

const DRAFT_DELAY_MS = 300;
/** How long Start over can be taken back. */
const UNDO_MS = 20_000;
/** Fields of the answers that a step (and a Review section) shows. */
const ANSWER_FIELD = /^(organisation|regions|credentials|components|domain)(\.|$)/;

export function WizardShell(props: {
  steps: StepInfo[];
  initial: WizardAnswers;
  note: string | null;
  data: Omit<WizardData, "estimate">;
  demo?: boolean;
  onStarted?: (id: string) => void;
}) {
  const { steps } = props;
  const [answers, setAnswers] = useState(props.initial);
  const [current, setCurrent] = useState(0);
  const [completed, setCompleted] = useState<Set<number>>(new Set());
  // The engine's verdict, tagged with what it judged so a stale verdict is never used.
  const [verdict, setVerdict] = useState<{ of: WizardAnswers; step: string; errors: FieldError[] } | null>(null);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [explained, setExplained] = useState<Record<string, string>>({});
  const [tried, setTried] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [scenario, setScenario] = useState<DemoScenario>("happy_path");
  const [speed, setSpeed] = useState(10);
  const [starting, setStarting] = useState(false);
  // The engine's refusal of provision_start, shown next to the field it names;
  // tagged with the answers it judged, so any change makes it stale.
  const [refusal, setStartError] = useState<(FieldError & { of: WizardAnswers }) | null>(null);
  const startError = refusal && refusal.of === answers ? refusal : null;
  // Live mode: Provision waits for the tick on Review's plan, given for these very answers.
  const [confirmedFor, setConfirmedFor] = useState<WizardAnswers | null>(null);
  const confirmed = confirmedFor === answers;
  const setConfirmed = useCallback((yes: boolean) => setConfirmedFor(yes ? answers : null), [answers]);
  // Start over asks first, then can be undone for a while: what it threw away.
  const [askStartOver, setAskStartOver] = useState(false);
  const [undo, setUndo] = useState<{ answers: WizardAnswers; completed: Set<number>; current: number } | null>(null);
  useEffect(() => {
    if (!undo) return;
    const t = setTimeout(() => setUndo(null), UNDO_MS);
    return () => clearTimeout(t);
  }, [undo]);
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  // Server types and prices: the boot's copy until a validated token brings live ones.
  const [offers, setOffers] = useState(props.data.offers);
  const reloadOffers = useCallback(() => {
    call("server_offers")
      .then(setOffers)
      .catch(() => {});
  }, []);
  // A restored draft with a validated token: the engine may hold live offers already.
  const restoredToken = useRef(props.initial.credentials.token_validated);
  useEffect(() => {
    if (restoredToken.current) reloadOffers();
  }, [reloadOffers]);

  const step = steps[current];

  // The engine is the only judge of validity: ask it on every change.
  useEffect(() => {
    if (!step) return;
    let live = true;
    const judged = { of: answers, step: step.step };
    call("wizard_validate", { step: step.step, answers })
      .then((errors) => live && setVerdict({ ...judged, errors }))
      .catch((e) => live && setVerdict({ ...judged, errors: [{ field: "", message: e.message }] }));
    return () => {
      live = false;
    };
  }, [answers, step]);

  // Cost and footprint follow every change.
  useEffect(() => {
    let live = true;
    call("wizard_estimate", answers)
      .then((e) => live && setEstimate(e))
      .catch(() => live && setEstimate(null));
    return () => {
      live = false;
    };
  }, [answers]);

  // The draft follows the operator's typing (it never holds a secret).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const t = setTimeout(() => {
      call("draft_save", answers)
        .then(() => setSaveError(null))
        .catch((e) => setSaveError(e.message));
    }, DRAFT_DELAY_MS);
    return () => clearTimeout(t);
  }, [answers]);

  useEffect(() => {
    heading.current?.focus();
  }, [current]);

  const update = useCallback((change: (a: WizardAnswers) => WizardAnswers) => setAnswers((a) => change(a)), []);
  const change = useCallback(async (c: WizardChange) => {
    try {
      const out = await call("wizard_change", { answers, change: c });
      setAnswers(out.answers);
      return out;
    } catch (e) {
      setAnnouncement((e as { message: string }).message);
      return null;
    }
  }, [answers]);
  const validated = verdict !== null && verdict.of === answers && verdict.step === step?.step;
  // The engine's errors, each in the step's own words where it gave some (explain).
  const errors = useMemo(() => (verdict?.errors ?? []).map((e) => {
      const why = explained[e.field];
      return why ? { ...e, message: why } : e;
    }), [verdict, explained]);
  const explain = useCallback(
    (field: string, why: string | null) =>
      setExplained((x) => {
        if ((x[field] ?? null) === why) return x;
        const next = { ...x };
        if (why === null) delete next[field];
        else next[field] = why;
        return next;
      }),
    [],
  );
  const touch = useCallback((f: string) => setTouched((t) => (t.has(f) ? t : new Set(t).add(f))), []);
  const errorFor = useMemo(() => {
    const fromSteps = errorLookup(errors, (f) => tried || touched.has(f));
    return (f: string) => (startError && startError.field === f ? startError.message : undefined) ?? fromSteps(f);
  }, [errors, tried, touched, startError]);
  const errorNow = useMemo(() => errorLookup(errors, () => true), [errors]);
  // A start error about a field goes next to it; one about nothing in the answers stays below.
  const startErrorPlaced = !!startError && ANSWER_FIELD.test(startError.field);

  if (!step) return null;
  const Body = BODIES[step.step];
  const last = current === steps.length - 1;
  const unconfirmed = last && !props.demo && !confirmed;
  const valid = validated && errors.length === 0 && !starting && !unconfirmed;
  // Said once: a reason already shown next to its field is pointed at, not repeated.
  const firstError = errors[0];
  const blocked =
    (firstError && (errorFor(firstError.field) !== undefined ? "Fix what is marked in red above first." : firstError.message)) ??
    (validated && unconfirmed ? "Tick the box under “What will be created” first: Provision creates billed resources." : undefined);

  const goTo = (i: number) => {
    setAnnouncement("");
    // Moving on from a fresh start keeps it: Undo is for the moment after.
    setUndo(null);
    setCurrent(i);
    setTried(false);
    setTouched(new Set());
    setExplained({});
  };

  const next = (e?: FormEvent) => {
    e?.preventDefault();
    if (!valid) {
      setTried(true);
      const firstBad = errors[0]?.field;
      if (firstBad) document.getElementById(firstBad.replaceAll(".", "-"))?.focus();
      return;
    }
    setCompleted((c) => new Set(c).add(current));
    if (!last) {
      goTo(current + 1);
      return;
    }
    setStarting(true);
    setStartError(null);
    call("provision_start", { answers, scenario: props.demo ? scenario : null, speed: props.demo ? speed : null })
      .then((d) => props.onStarted?.(d.id))
      .catch((e: { message: string; field?: string | null }) => setStartError({ field: e.field ?? "", message: e.message, of: answers }))
      .finally(() => setStarting(false));
  };

  const startOver = async () => {
    setAskStartOver(false);
    // Forget the draft and begin again with the engine's defaults; keep what was thrown away for Undo.
    const before = { answers, completed, current };
    try {
      await call("draft_clear");
      const fresh = await call("wizard_defaults");
      first.current = true;
      setAnswers(fresh);
      setCompleted(new Set());
      goTo(0);
      setUndo(before);
    } catch (e) {
      setAnnouncement(`Could not start over: ${(e as { message: string }).message}`);
    }
  };
  const undoStartOver = () => {
    if (!undo) return;
    // The restored answers are saved as the draft again by the draft effect.
    setAnswers(undo.answers);
    setCompleted(undo.completed);
    goTo(undo.current);
    setUndo(null);
    setAnnouncement("Your answers are back.");
  };

  return (
    <section className="wizard" aria-labelledby="step-title">
      <Stepper steps={steps} current={current} completed={completed} onJump={goTo} />
      <form className="step" onSubmit={next} noValidate>
        <p className="step-count">
          Step {step.number} of {steps.length}
        </p>
        <h1 id="step-title" tabIndex={-1} ref={heading}>
          {step.title}
        </h1>
        {props.note && current === 0 && <p className="note">{props.note}</p>}
        <Body
          answers={answers}
          data={{ ...props.data, offers, estimate }}
          update={update}
          change={change}
          errorFor={errorFor}
          errorNow={errorNow}
          touch={touch}
          goTo={goTo}
          announce={setAnnouncement}
          reloadOffers={reloadOffers}
          explain={explain}
          demo={props.demo}
          confirmation={{ confirmed, set: setConfirmed }}
        />
        <p className="announce" role="status" aria-live="polite">
          {announcement}
        </p>
        {undo && (
          <p className="announce">
            Started over: the draft was cleared.{" "}
            <button type="button" className="link" data-testid="undo-start-over" onClick={undoStartOver}>
              Undo
            </button>
          </p>
        )}
        {last && props.demo && (
          <div className="provision-options">
            <label>
              Demo story{" "}
              <select value={scenario} onChange={(e) => setScenario(e.target.value as DemoScenario)}>
                <option value="happy_path">Everything succeeds</option>
                <option value="quota_exceeded">Server limit reached at apply</option>
                <option value="component_retry">A component fails, then installs on retry</option>
              </select>
            </label>
            <label>
              Speed{" "}
              <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
                {[1, 5, 10, 30, 60].map((x) => (
                  <option key={x} value={x}>
                    ×{x}
                    {x === 10 ? " (about two minutes)" : ""}
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
        {startError && !startErrorPlaced && (
          <p className="field-error" role="alert">
            <Message text={startError.message} />
          </p>
        )}
        <footer className="step-footer">
          <div className="inline">
            {current > 0 && (
              <button type="button" className="secondary" onClick={() => goTo(current - 1)}>
                Back
              </button>
            )}
            <button type="button" className="ghost" onClick={() => setAskStartOver(true)}>
              Start over
            </button>
          </div>
          <div className="next-wrap">
            {!valid && blocked && (
              <p className="next-reason" id="next-reason">
                <Message text={blocked} />
              </p>
            )}
            {saveError && <p className="next-reason">Draft not saved: {saveError}</p>}
            {/* aria-disabled keeps Next focusable so the reason can be read and reached by keyboard. */}
            <button type="submit" className="primary" aria-disabled={!valid} aria-describedby={!valid && blocked ? "next-reason" : undefined}>
              {last ? (starting ? "Starting…" : "Provision") : "Next"}
            </button>
          </div>
        </footer>
      </form>
      {askStartOver && (
        <ConfirmDialog
          id="start-over"
          title="Start over?"
          body={<p>This clears every answer of the wizard and its saved draft. You can undo it for 20 seconds.</p>}
          keep="Keep my answers"
          confirm="Start over"
          danger
          onKeep={() => setAskStartOver(false)}
          onConfirm={() => void startOver()}
        />
      )}
    </section>
  );
}
