import type { FieldError, WizardAnswers } from "../api";

export type StepProps = {
  answers: WizardAnswers;
  update: (change: (a: WizardAnswers) => WizardAnswers) => void;
  /** Errors of this step from the engine, shown once the field was touched or Next was tried. */
  errorFor: (field: string) => string | undefined;
  touch: (field: string) => void;
};

export function errorLookup(errors: FieldError[], shown: (field: string) => boolean) {
  return (field: string) => {
    const e = errors.find((x) => x.field === field);
    return e && shown(field) ? e.message : undefined;
  };
}
