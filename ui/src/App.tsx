import { useEffect, useState } from "react";
import { call, type ApiError, type AppInfo, type Catalog, type ServerOffers, type StepInfo, type WizardAnswers, type WizardOptions } from "./api";
import { DemoBanner } from "./DemoBanner";
import { ThemeToggle } from "./ThemeToggle";
import { WizardShell } from "./wizard/WizardShell";

type Boot = {
  info: AppInfo;
  steps: StepInfo[];
  answers: WizardAnswers;
  draftNote: string | null;
  data: { options: WizardOptions; offers: ServerOffers; catalog: Catalog };
};

export function App() {
  const [boot, setBoot] = useState<Boot | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    let live = true;
    (async () => {
      const [info, steps, defaults, options, offers, catalog] = await Promise.all([
        call("app_info"),
        call("wizard_steps"),
        call("wizard_defaults"),
        call("wizard_options"),
        call("server_offers"),
        call("component_catalog"),
      ]);
      let answers = defaults;
      let draftNote: string | null = null;
      try {
        const draft = await call("draft_load");
        if (draft) {
          answers = draft;
          draftNote = "Your draft was restored.";
        }
      } catch (e) {
        draftNote = (e as ApiError).message;
      }
      if (live) setBoot({ info, steps, answers, draftNote, data: { options, offers, catalog } });
    })().catch((e: ApiError) => live && setError(e));
    return () => {
      live = false;
    };
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Catalyst Provisioner</span>
        </div>
        <ThemeToggle />
      </header>
      {boot && <DemoBanner info={boot.info} />}
      <main className="content">
        {error && (
          <div className="boot-error" role="alert">
            <h1>The app could not start</h1>
            <p>{error.message}</p>
          </div>
        )}
        {!boot && !error && <p className="loading">Loading…</p>}
        {boot && <WizardShell steps={boot.steps} initial={boot.answers} note={boot.draftNote} data={boot.data} />}
      </main>
    </div>
  );
}
