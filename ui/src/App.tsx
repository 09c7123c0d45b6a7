import { lazy, Suspense, useEffect, useState } from "react";
import { call, type ApiError, type AppInfo, type Catalog, type ServerOffers, type StepInfo, type WizardAnswers, type WizardOptions } from "./api";
import { ModeBanner } from "./ModeBanner";
import { ThemeToggle } from "./ThemeToggle";
// Pages other than the wizard load when first opened: less script to parse
// and compile before the first step paints (bench/: start-up, idle memory).
const DeploymentsPage = lazy(() => import("./deployments/DeploymentsPage").then((m) => ({ default: m.DeploymentsPage })));
const ProvisionPage = lazy(() => import("./provision/ProvisionPage").then((m) => ({ default: m.ProvisionPage })));
const ReplayPage = lazy(() => import("./provision/ReplayPage").then((m) => ({ default: m.ReplayPage })));
const SettingsPage = lazy(() => import("./settings/SettingsPage").then((m) => ({ default: m.SettingsPage })));
import { WizardShell } from "./wizard/WizardShell";

type View = { page: "wizard" } | { page: "deployments" } | { page: "settings" } | { page: "run"; id: string } | { page: "replay" };

/** The view lives in the URL fragment so a reload shows the same page. */
function viewFromHash(): View {
  const m = /^#\/run\/([A-Za-z0-9-]+)$/.exec(window.location.hash);
  if (m?.[1]) return { page: "run", id: m[1] };
  if (window.location.hash === "#/deployments") return { page: "deployments" };
  if (window.location.hash === "#/replay") return { page: "replay" };
  if (window.location.hash === "#/settings") return { page: "settings" };
  return { page: "wizard" };
}

function hashOf(v: View) {
  if (v.page === "run") return `#/run/${v.id}`;
  if (v.page === "replay") return "#/replay";
  return v.page === "deployments" ? "#/deployments" : v.page === "settings" ? "#/settings" : "#/";
}

type Boot = {
  /** Which boot this is: the wizard starts afresh from each. */
  generation: number;
  info: AppInfo;
  steps: StepInfo[];
  answers: WizardAnswers;
  draftNote: string | null;
  data: { options: WizardOptions; offers: ServerOffers; catalog: Catalog };
};

export function App() {
  const [boot, setBoot] = useState<Boot | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [view, setViewState] = useState<View>(viewFromHash);
  // A mode change boots the window again: banner, draft (rechecked for the mode), offers.
  const [bootCount, setBootCount] = useState(0);
  const setView = (v: View) => {
    window.history.replaceState(null, "", hashOf(v));
    setViewState(v);
  };
  useEffect(() => {
    const on = () => setViewState(viewFromHash());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);

  useEffect(() => {
    let live = true;
    (async () => {
      // Every boot call at once, the draft too: the first step paints after the slowest.
      const draftCall = call("draft_load").then(
        (draft) => ({ draft, failed: null }),
        (e: ApiError) => ({ draft: null, failed: e.message }),
      );
      const [info, steps, defaults, options, offers, catalog, loaded] = await Promise.all([
        call("app_info"),
        call("wizard_steps"),
        call("wizard_defaults"),
        call("wizard_options"),
        call("server_offers"),
        call("component_catalog"),
        draftCall,
      ]);
      const answers = loaded.draft?.answers ?? defaults;
      // Checks made in the other mode were undone by the engine, which says which to make again.
      const draftNote = loaded.failed ?? (loaded.draft ? (loaded.draft.note ?? "Your draft was restored.") : null);
      if (live) setBoot({ generation: bootCount, info, steps, answers, draftNote, data: { options, offers, catalog } });
    })().catch((e: ApiError) => live && setError(e));
    return () => {
      live = false;
    };
  }, [bootCount]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Catalyst Provisioner</span>
        </div>
        <nav className="topnav" aria-label="Main">
          <button type="button" className="ghost" aria-current={view.page === "wizard" ? "page" : undefined} onClick={() => setView({ page: "wizard" })}>
            New Sovereign
          </button>
          <button type="button" className="ghost" aria-current={view.page === "deployments" || view.page === "run" ? "page" : undefined} onClick={() => setView({ page: "deployments" })}>
            Deployments
          </button>
          <button type="button" className="ghost" aria-current={view.page === "replay" ? "page" : undefined} onClick={() => setView({ page: "replay" })}>
            Replay
          </button>
          <button type="button" className="ghost" aria-current={view.page === "settings" ? "page" : undefined} onClick={() => setView({ page: "settings" })}>
            Settings
          </button>
          <ThemeToggle />
        </nav>
      </header>
      {boot && <ModeBanner info={boot.info} />}
      <main className="content">
        {error && (
          <div className="boot-error" role="alert">
            <h1>The app could not start</h1>
            <p>{error.message}</p>
          </div>
        )}
        {!boot && !error && <p className="loading">Loading…</p>}
        {/* Kept mounted while another page is open: the step and the answers typed stay as they were. */}
        {boot && (
          <div hidden={view.page !== "wizard"}>
            <WizardShell
              key={boot.generation}
              steps={boot.steps}
              initial={boot.answers}
              note={boot.draftNote}
              data={boot.data}
              demo={boot.info.mode === "demo"}
              onStarted={(id) => setView({ page: "run", id })}
            />
          </div>
        )}
        <Suspense fallback={<p className="loading">Loading…</p>}>
          {boot && view.page === "deployments" && <DeploymentsPage onOpen={(id) => setView({ page: "run", id })} onNew={() => setView({ page: "wizard" })} />}
          {boot && view.page === "replay" && <ReplayPage />}
          {boot && view.page === "settings" && <SettingsPage onModeChanged={() => setBootCount((n) => n + 1)} />}
          {boot && view.page === "run" && <ProvisionPage key={view.id} id={view.id} onBack={() => setView({ page: "deployments" })} />}
        </Suspense>
      </main>
    </div>
  );
}
