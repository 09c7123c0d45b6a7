import { useEffect, useState } from "react";
import { call, type ApiError, type Availability, type DomainMode, type ErrorCode, type RegistrarKind } from "../../api";
import { describedBy, Field } from "../Field";
import type { StepProps } from "../types";

const CHECK_DELAY_MS = 400;
/** The engine's codes for "PDM cannot answer" (engine/pdm/error.rs, engine/domain.rs): own-domain modes are offered instead. */
const PDM_DOWN = new Set<ErrorCode>([
  "pdm_unreachable",
  "pdm_unconfigured",
  "pdm_unavailable",
  "pdm_unauthorized",
  "pdm_server_error",
  "pdm_wrong_endpoint",
  "pdm_unexpected_response",
  "pdm_config_invalid",
]);

const MODES: { id: DomainMode; title: string; text: string }[] = [
  { id: "pool", title: "Pool domain", text: "A subdomain of a domain OpenOva manages. Recommended for a first Sovereign." },
  { id: "byo_manual", title: "Own domain, nameservers by hand", text: "You point your domain's nameservers at the Sovereign yourself." },
  { id: "byo_api", title: "Own domain via registrar API", text: "The app changes the nameservers through your registrar's API." },
];

type Check = { state: "idle" | "checking" | "done" | "error"; result?: Availability; error?: string; code?: ErrorCode };

function CopyRow({ value }: { value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <li className="copy-row">
      <code>{value}</code>
      <button
        type="button"
        className="secondary small"
        aria-label={`Copy ${value}`}
        onClick={() =>
          navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </li>
  );
}

export function DomainStep({ answers, data, change, update, errorFor, touch, explain }: StepProps) {
  const d = answers.domain;
  const setDomain = (patch: Partial<typeof d>) => update((a) => ({ ...a, domain: { ...a.domain, ...patch } }));
  const [check, setCheck] = useState<Check>({ state: "idle" });
  // The registrar credential stays in this component until the engine has it in the keyring.
  const [credential, setCredential] = useState("");
  const [regState, setRegState] = useState<{ busy: boolean; message?: string; ok?: boolean }>({ busy: false });
  const registrar = data.options.registrars.find((r) => r.kind === d.registrar);
  const validateRegistrar = async () => {
    if (!registrar) return;
    setRegState({ busy: true });
    try {
      await call("registrar_validate", { registrar: registrar.kind as RegistrarKind, domain: d.byo_domain, credential });
      setCredential("");
      setDomain({ registrar_validated: true });
      setRegState({ busy: false, ok: true, message: `${registrar.label} accepted the credential; it is kept in the OS keyring. ${registrar.propagation}` });
    } catch (e) {
      setDomain({ registrar_validated: false });
      setRegState({ busy: false, ok: false, message: (e as ApiError).message });
    }
  };

  // Availability is asked 400 ms after typing stops; the local rule answers first.
  const { mode, pool_domain: pool, subdomain } = d;
  useEffect(() => {
    if (mode !== "pool" || !subdomain) return;
    let live = true;
    const t = setTimeout(() => {
      setCheck({ state: "checking" });
      call("domain_check", { pool, subdomain })
        .then((result) => {
          if (!live) return;
          setCheck({ state: "done", result });
          // PDM's answer is shown now: Next points at it rather than repeating it.
          touch("domain.subdomain");
          // The engine's Domain rule reads PDM's answer from the answers; it
          // only counts while the name is still the one checked.
          update((a) => (a.domain.subdomain === subdomain && a.domain.pool_domain === pool ? { ...a, domain: { ...a.domain, availability: result } } : a));
        })
        .catch((e: ApiError) => live && setCheck({ state: "error", error: e.message, code: e.code }));
    }, CHECK_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [mode, subdomain, pool, update, touch]);

  // A name PDM refused (or could not check) is said once, in the availability line below the field.
  const saidBelow = d.mode === "pool" && !!d.subdomain && ((check.state === "done" && !check.result?.available) || check.state === "error");
  const subErr = saidBelow ? undefined : errorFor("domain.subdomain");
  const byoErr = errorFor("domain.byo_domain");
  const emailErr = errorFor("domain.admin_email");
  const fqdn = d.mode === "pool" ? (d.subdomain ? `${d.subdomain}.${d.pool_domain}` : "") : d.byo_domain;
  const pdmDown = check.state === "error" && check.code !== undefined && PDM_DOWN.has(check.code);
  const shownCheck = d.subdomain ? check : { state: "idle" as const };
  // While the check failed, the engine's "Checking whether … is available"
  // is not why Next is blocked: PDM's failure is, with what to do about it.
  const checkFailed = d.mode === "pool" && shownCheck.state === "error" ? (shownCheck.error ?? null) : null;
  useEffect(() => {
    explain("domain.subdomain", checkFailed === null ? null : pdmDown ? `${checkFailed} Try again later, or use your own domain instead.` : checkFailed);
    return () => explain("domain.subdomain", null);
  }, [checkFailed, pdmDown, explain]);

  return (
    <div>
      <fieldset className="cards">
        <legend>How the Sovereign gets its name</legend>
        {MODES.map((m) => (
          <label key={m.id} className={`card${d.mode === m.id ? " selected" : ""}`}>
            <input type="radio" name="domain-mode" value={m.id} checked={d.mode === m.id} onChange={() => void change({ type: "domain_mode", mode: m.id })} />
            <span className="card-title">{m.title}</span>
            <span className="card-text">{m.text}</span>
          </label>
        ))}
      </fieldset>

      {d.mode === "pool" && (
        <div className="grid two domain-fields">
          <Field id="domain-subdomain" label="Subdomain" error={subErr} hint={`Lower-case letters, digits and "-", starting with a letter.`}>
            <input
              id="domain-subdomain"
              value={d.subdomain}
              placeholder="e.g. omantel-prod"
              autoCapitalize="off"
              spellCheck={false}
              aria-invalid={!!subErr}
              aria-describedby={[describedBy("domain-subdomain", subErr, "x"), "domain-availability"].filter(Boolean).join(" ")}
              onChange={(e) => setDomain({ subdomain: e.target.value.toLowerCase().replace(/\s+/g, ""), availability: null })}
              onBlur={() => touch("domain.subdomain")}
            />
          </Field>
          <Field id="domain-pool-domain" label="Pool domain" error={errorFor("domain.pool_domain")}>
            <select id="domain-pool-domain" value={d.pool_domain} onChange={(e) => setDomain({ pool_domain: e.target.value, availability: null })}>
              {data.options.pool_domains.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </Field>
          <div id="domain-availability" className="span-2 availability" role="status" aria-live="polite">
            {shownCheck.state === "checking" && <span>Checking {fqdn}…</span>}
            {shownCheck.state === "done" && shownCheck.result && (
              <span className={shownCheck.result.available ? "ok" : "bad"}>
                <strong>{shownCheck.result.title}.</strong> {shownCheck.result.message}
              </span>
            )}
            {shownCheck.state === "error" && (
              <span className="bad">
                {shownCheck.error}
                {pdmDown && (
                  <>
                    {" "}
                    <button type="button" className="link" onClick={() => void change({ type: "domain_mode", mode: "byo_manual" })}>
                      Use my own domain instead
                    </button>
                  </>
                )}
              </span>
            )}
          </div>
        </div>
      )}

      {d.mode !== "pool" && (
        <div className="grid two domain-fields">
          <Field id="domain-byo-domain" label="Your domain" error={byoErr} hint="An apex like acme.com or a delegated subdomain like apps.acme.com.">
            <input
              id="domain-byo-domain"
              value={d.byo_domain}
              placeholder="acme.com"
              autoCapitalize="off"
              spellCheck={false}
              aria-invalid={!!byoErr}
              aria-describedby={describedBy("domain-byo-domain", byoErr, "x")}
              onChange={(e) => void change({ type: "byo_domain", domain: e.target.value.trim().toLowerCase() })}
              onBlur={() => touch("domain.byo_domain")}
            />
          </Field>
          {d.mode === "byo_api" && (
            <Field id="domain-registrar" label="Registrar" error={errorFor("domain.registrar")}>
              <select id="domain-registrar" value={d.registrar ?? ""} onChange={(e) => void change({ type: "registrar", registrar: e.target.value || null })}>
                <option value="">Choose your registrar</option>
                {data.options.registrars.map((r) => (
                  <option key={r.kind} value={r.kind}>
                    {r.label}
                  </option>
                ))}
              </select>
            </Field>
          )}
          {d.mode === "byo_api" && registrar && (
            <div className="span-2">
              <Field
                id="domain-registrar-credential"
                label={`${registrar.label} API credential`}
                error={errorFor("domain.registrar_credential") ?? (regState.ok === false ? regState.message : undefined)}
                hint={registrar.credential_hint}
              >
                <div className="inline">
                  <input
                    id="domain-registrar-credential"
                    type="password"
                    autoComplete="off"
                    value={credential}
                    placeholder={d.registrar_validated ? "A validated credential is in the keyring" : "Paste the credential"}
                    onChange={(e) => setCredential(e.target.value)}
                  />
                  <button type="button" className="primary" disabled={!credential.trim() || !d.byo_domain || regState.busy} onClick={() => void validateRegistrar()}>
                    {regState.busy ? "Checking…" : "Validate"}
                  </button>
                </div>
              </Field>
              {regState.ok && <p className="availability"><span className="ok">{regState.message}</span></p>}
            </div>
          )}
          <div className="span-2">
            <p>{d.mode === "byo_manual" ? "Set these nameservers at your registrar:" : "The app will set these nameservers through your registrar:"}</p>
            <ul className="copy-list">
              {data.options.nameservers.map((ns) => (
                <CopyRow key={ns} value={ns} />
              ))}
            </ul>
            {d.mode === "byo_manual" && <p className="hint">Delegation can take from minutes to 48 hours to be visible; the final screen says whether it already is.</p>}
          </div>
        </div>
      )}

      <div className="grid two domain-fields">
        <Field id="domain-admin-email" label="Admin email" error={emailErr} hint="Let's Encrypt account and the handover address.">
          <input
            id="domain-admin-email"
            type="email"
            value={d.admin_email}
            placeholder="platform@example.com"
            autoComplete="email"
            aria-invalid={!!emailErr}
            aria-describedby={describedBy("domain-admin-email", emailErr, "x")}
            onChange={(e) => setDomain({ admin_email: e.target.value })}
            onBlur={() => touch("domain.admin_email")}
          />
        </Field>
        {fqdn && (
          <p className="span-2">
            Sovereign console: <code>console.{fqdn}</code>
          </p>
        )}
      </div>
    </div>
  );
}
