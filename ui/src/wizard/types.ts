import type { Catalog, ChangeOutcome, Estimate, FieldError, ServerOffers, WizardAnswers, WizardChange, WizardOptions } from "../api";

/** What every step reads besides the answers: the engine's fixed choices and catalogs. */
export type WizardData = {
  options: WizardOptions;
  offers: ServerOffers;
  catalog: Catalog;
  estimate: Estimate | null;
};

export type StepProps = {
  answers: WizardAnswers;
  data: WizardData;
  update: (change: (a: WizardAnswers) => WizardAnswers) => void;
  /** Changes other answers depend on go through the engine, which resets what depends on them. */
  change: (c: WizardChange) => Promise<ChangeOutcome | null>;
  /** Errors of this step from the engine, shown once the field was touched or Next was tried. */
  errorFor: (field: string) => string | undefined;
  /** The engine's current error for a field, touched or not (for problems shown at once). */
  errorNow: (field: string) => string | undefined;
  touch: (field: string) => void;
  /** Jumps to a step (Review's Edit links). */
  goTo: (step: number) => void;
  /** A short message in the step's live region (e.g. "Also added: …"). */
  announce: (text: string) => void;
  /** Asks the engine for server types and prices again (live ones once a token was validated). */
  reloadOffers: () => void;
  /**
   * The step's own account of why the engine's error on `field` stands, shown
   * in its place (under the field and as Next's reason) while that error does;
   * `null` withdraws it. E.g. the engine says a name is still being checked,
   * the step knows the check failed because PDM cannot be reached.
   */
  explain: (field: string, why: string | null) => void;
  /** Demo mode: the simulated cloud (Review shows its list, asks nothing). */
  demo?: boolean;
  /** Review in live mode: the operator's tick that they know what Provision creates and costs. */
  confirmation?: { confirmed: boolean; set: (yes: boolean) => void };
};

export function errorLookup(errors: FieldError[], shown: (field: string) => boolean) {
  return (field: string) => {
    const e = errors.find((x) => x.field === field);
    return e && shown(field) ? e.message : undefined;
  };
}

export const euro = (n: number, digits = 2) => `€${n.toFixed(digits)}`;
