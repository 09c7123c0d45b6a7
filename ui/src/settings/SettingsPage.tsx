import { useEffect, useState } from "react";
import {
  call,
  type ApiError,
  type FieldError,
  type PhaseTimeouts,
  type SaveOutcome,
  type SecretKey,
  type SecretValue,
  type SettingsValues,
  type SettingsView,
} from "../api";
import { Field, describedBy } from "../wizard/Field";
import { ImportProfile } from "./ImportProfile";

type TextKey = Exclude<keyof SettingsValues, "mode" | "pool_domains" | "nameservers" | "timeouts" | "certificates">;
type ListKey = "pool_domains" | "nameservers";

/** A secret as the page holds it: never its saved value, only what to do with it. */
type SecretEdit = { action: "keep" } | { action: "set"; value: string } | { action: "clear" };

const SECRETS: { key: SecretKey; label: string }[] = [
  { key: "pdm_password", label: "PDM password" },
  { key: "registry_mirror_password", label: "Registry mirror password" },
  { key: "pull_password", label: "Image pull password (or token)" },
];

const PHASES: { key: keyof PhaseTimeouts; label: string }[] = [
  { key: "preflight", label: "Preflight checks" },
  { key: "reserve_domain", label: "Reserve the domain" },
  { key: "tofu_init", label: "Prepare OpenTofu" },
  { key: "tofu_plan", label: "Plan the cloud resources" },
  { key: "tofu_apply", label: "Create the cloud resources" },
  { key: "dns_commit", label: "Point DNS at the load balancer" },
  { key: "cloud_init", label: "Install k3s, Cilium and Flux" },
  { key: "kubeconfig", label: "Fetch the kubeconfig" },
  { key: "bootstrap", label: "Install the platform components" },
  { key: "console", label: "Wait for the console" },
];

const TEXT_FIELDS: { section: string; fields: { key: TextKey | ListKey; label: string; hint?: string }[] }[] = [
  {
    section: "Pool-domain-manager (PDM)",
    fields: [
      { key: "pdm_url", label: "PDM address", hint: "https:// (plain http only to this machine)." },
      { key: "pdm_username", label: "PDM user" },
    ],
  },
  {
    section: "Domains",
    fields: [
      { key: "pool_domains", label: "Pool domains", hint: "Comma-separated." },
      { key: "nameservers", label: "Nameservers for own domains", hint: "Shown to operators who bring their own domain. Comma-separated." },
    ],
  },
  {
    section: "GitOps",
    fields: [
      { key: "gitops_url", label: "GitOps repository", hint: "https:// URL Flux reconciles from." },
      { key: "gitops_branch", label: "Branch" },
    ],
  },
  {
    section: "Registry mirror",
    fields: [
      { key: "registry_mirror_url", label: "Mirror address", hint: "https:// address of the mirror, e.g. a Harbor proxy." },
      { key: "registry_mirror_upstream", label: "Registry it mirrors" },
      {
        key: "registry_mirror_project",
        label: "Proxy project",
        hint: "Harbor proxy-cache project; images are pulled as <project>/<image>. Empty: the mirror serves the registry at its root.",
      },
      { key: "registry_mirror_username", label: "Mirror user" },
    ],
  },
  {
    section: "Image pull credential",
    fields: [
      { key: "pull_registry", label: "Registry" },
      { key: "pull_username", label: "User" },
    ],
  },
  {
    section: "Tools and endpoints",
    fields: [
      { key: "hetzner_endpoint", label: "Hetzner API endpoint" },
      { key: "tofu_path", label: "Path to tofu", hint: "Empty: the OpenTofu shipped with the app, then PATH. A Terraform runs only when named here, and keeps its state unencrypted." },
      { key: "provider_mirror", label: "Provider mirror directory", hint: "Empty: the mirror shipped with the app." },
    ],
  },
];

const SECRET_AFTER: Partial<Record<string, SecretKey>> = {
  pdm_username: "pdm_password",
  registry_mirror_username: "registry_mirror_password",
  pull_username: "pull_password",
};

const splitList = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function SettingsPage({ onModeChanged }: { onModeChanged?: () => void } = {}) {
  const [view, setView] = useState<SettingsView | null>(null);
  const [values, setValues] = useState<SettingsValues | null>(null);
  const [lists, setLists] = useState<Record<ListKey, string>>({ pool_domains: "", nameservers: "" });
  const [secrets, setSecrets] = useState<Record<SecretKey, SecretEdit>>({
    pdm_password: { action: "keep" },
    registry_mirror_password: { action: "keep" },
    pull_password: { action: "keep" },
  });
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  // The time limits as typed: a bad one gets its own sentence here, never a parser's message.
  const [timeoutText, setTimeoutText] = useState<Record<string, string>>({});

  const load = (v: SettingsView) => {
    setView(v);
    setValues(v.values);
    setLists({ pool_domains: v.values.pool_domains.join(", "), nameservers: v.values.nameservers.join(", ") });
    setSecrets({ pdm_password: { action: "keep" }, registry_mirror_password: { action: "keep" }, pull_password: { action: "keep" } });
    setTimeoutText(Object.fromEntries(Object.entries(v.values.timeouts).map(([k, n]) => [k, n === null || n === undefined ? "" : String(n)])));
  };

  // After a refused save, the first field to fix gets the focus (and is scrolled to).
  useEffect(() => {
    const first = errors[0];
    if (first) document.getElementById(`settings-${first.field.replaceAll(".", "-")}`)?.focus();
  }, [errors]);

  useEffect(() => {
    call("settings_get")
      .then(load)
      .catch((e: ApiError) => setFailure(e.message));
  }, []);

  const errorOf = (field: string) => errors.find((e) => e.field === field)?.message;

  const afterSave = (out: SaveOutcome, what: string) => {
    if (out.saved) {
      const switched = view !== null && out.settings.running_mode !== view.running_mode;
      load(out.settings);
      setErrors([]);
      setNote(
        out.settings.mode_pending
          ? `${what} ${out.settings.mode_pending}`
          : switched
            ? `${what} The app is in ${out.settings.running_mode} mode now${out.settings.running_mode === "live" ? ": runs create real, billed resources" : ""}.`
            : what,
      );
      if (switched) onModeChanged?.();
    } else {
      setErrors(out.errors);
      setNote(null);
    }
  };

  /** The time limits typed that are not a whole number of seconds from 1. */
  const timeoutErrors = (): FieldError[] =>
    PHASES.flatMap(({ key, label }) => {
      const t = (timeoutText[key] ?? "").trim();
      if (t === "" || /^\d+$/.test(t) && Number(t) >= 1) return [];
      const def = view?.defaults.timeouts[key];
      const n = Number(t);
      const why = Number.isFinite(n) && n <= 0 ? "A time limit must be more than 0 seconds" : "Type a whole number of seconds";
      return [{ field: `timeouts.${key}`, message: `${why} for “${label}”${def ? `, or leave it empty for the default (${def} s)` : ""}.` }];
    });

  const save = async () => {
    if (!values) return;
    const local = timeoutErrors();
    if (local.length > 0) {
      setErrors(local);
      setNote(null);
      return;
    }
    setSaving(true);
    setFailure(null);
    const set_secrets: SecretValue[] = [];
    const clear_secrets: SecretKey[] = [];
    for (const { key } of SECRETS) {
      const s = secrets[key];
      if (s.action === "set") set_secrets.push({ key, value: s.value });
      if (s.action === "clear") clear_secrets.push(key);
    }
    try {
      const out = await call("settings_save", {
        values: { ...values, pool_domains: splitList(lists.pool_domains), nameservers: splitList(lists.nameservers) },
        set_secrets,
        clear_secrets,
      });
      afterSave(out, "Saved.");
    } catch (e) {
      const err = e as ApiError;
      if (err.field) setErrors([{ field: err.field, message: err.message }]);
      else setFailure(err.message);
    } finally {
      setSaving(false);
    }
  };

  if (failure && !view) {
    return (
      <p className="field-error" role="alert">
        {failure}
      </p>
    );
  }
  if (!view || !values) return <p className="loading">Loading…</p>;

  const secretField = (key: SecretKey, label: string) => {
    const id = `settings-${key}`;
    const edit = secrets[key];
    const state = view.secrets[key];
    const err = errorOf(key);
    const status = edit.action === "clear" ? "will be cleared" : state === "set" ? "set" : "not set";
    return (
      <Field key={key} id={id} label={`${label} (${status})`} hint="Kept in the system keyring; never shown again." error={err}>
        <div className="secret-row">
          <input
            id={id}
            type="password"
            autoComplete="new-password"
            placeholder={state === "set" ? "•••••••• (type to replace)" : ""}
            value={edit.action === "set" ? edit.value : ""}
            aria-invalid={err ? true : undefined}
            aria-describedby={describedBy(id, err, "hint")}
            onChange={(e) => setSecrets({ ...secrets, [key]: e.target.value ? { action: "set", value: e.target.value } : { action: "keep" } })}
          />
          {state === "set" && edit.action !== "clear" && (
            <button type="button" className="ghost" onClick={() => setSecrets({ ...secrets, [key]: { action: "clear" } })}>
              Clear
            </button>
          )}
          {edit.action === "clear" && (
            <button type="button" className="ghost" onClick={() => setSecrets({ ...secrets, [key]: { action: "keep" } })}>
              Keep it
            </button>
          )}
        </div>
      </Field>
    );
  };

  const textField = (key: TextKey | ListKey, label: string, hint?: string) => {
    const id = `settings-${key}`;
    const err = errorOf(key);
    const isList = key === "pool_domains" || key === "nameservers";
    const def = view.defaults[key];
    const placeholder = Array.isArray(def) ? def.join(", ") : (def ?? "");
    return (
      <Field key={key} id={id} label={label} hint={hint} error={err}>
        <input
          id={id}
          type="text"
          spellCheck={false}
          placeholder={placeholder}
          value={isList ? lists[key] : values[key as TextKey]}
          aria-invalid={err ? true : undefined}
          aria-describedby={describedBy(id, err, hint)}
          onChange={(e) => (isList ? setLists({ ...lists, [key]: e.target.value }) : setValues({ ...values, [key]: e.target.value }))}
        />
      </Field>
    );
  };

  return (
    <section aria-labelledby="settings-title" className="settings">
      <header className="run-head">
        <h1 id="settings-title">Settings</h1>
      </header>
      <p className="hint">
        Saved in {view.config_file}; passwords in the {view.keyring} keyring. Runs already going keep the settings they started with.
      </p>

      {view.keyring_error && (
        <p className="field-error" role="alert">
          {view.keyring_error}
        </p>
      )}
      <ImportProfile onApplied={(out: SaveOutcome) => afterSave(out, "Profile applied.")} />
      <hr />

      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
        noValidate
      >
        <fieldset>
          <legend>Mode</legend>
          <Field id="settings-mode" label="Mode" hint={`Running now: ${view.running_mode}.`} error={errorOf("mode")}>
            <select
              id="settings-mode"
              value={values.mode ?? "demo"}
              onChange={(e) => setValues({ ...values, mode: e.target.value === "live" ? "live" : "demo" })}
            >
              <option value="demo">Demo (simulated cloud, nothing real is created)</option>
              <option value="live">Live (creates real, billable resources)</option>
            </select>
          </Field>
        </fieldset>
        <fieldset>
          <legend>Certificates</legend>
          <Field
            id="settings-certificates"
            label="Let's Encrypt"
            hint="Staging for test Sovereigns made again and again on one domain: production allows five certificates per set of names a week, and browsers do not trust staging's."
            error={errorOf("certificates")}
          >
            <select
              id="settings-certificates"
              value={values.certificates ?? "production"}
              onChange={(e) => setValues({ ...values, certificates: e.target.value === "staging" ? "staging" : "production" })}
            >
              <option value="production">Production (trusted certificates)</option>
              <option value="staging">Staging (untrusted, no weekly limit)</option>
            </select>
          </Field>
        </fieldset>
        {TEXT_FIELDS.map((s) => (
          <fieldset key={s.section}>
            <legend>{s.section}</legend>
            {s.fields.flatMap((f) => {
              const out = [textField(f.key, f.label, f.hint)];
              const secret = SECRET_AFTER[f.key];
              if (secret) out.push(secretField(secret, SECRETS.find((x) => x.key === secret)!.label));
              return out;
            })}
          </fieldset>
        ))}
        <fieldset>
          <legend>Time limits per phase (seconds)</legend>
          {PHASES.map(({ key, label }) => {
            const id = `settings-timeouts-${key}`;
            const field = `timeouts.${key}`;
            const err = errorOf(field);
            return (
              <Field key={key} id={id} label={label} error={err}>
                <input
                  id={id}
                  type="text"
                  inputMode="numeric"
                  placeholder={String(view.defaults.timeouts[key] ?? "")}
                  value={timeoutText[key] ?? ""}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={describedBy(id, err)}
                  onChange={(e) => {
                    const t = e.target.value;
                    setTimeoutText({ ...timeoutText, [key]: t });
                    const n = /^\s*\d+\s*$/.test(t) ? Number(t) : null;
                    setValues({ ...values, timeouts: { ...values.timeouts, [key]: n } });
                  }}
                />
              </Field>
            );
          })}
        </fieldset>
        {errors.length > 0 && (
          <p className="field-error" role="alert">
            {errors.length === 1 ? "One setting needs fixing" : `${errors.length} settings need fixing`}; nothing was saved.
          </p>
        )}
        {failure && (
          <p className="field-error" role="alert">
            {failure}
          </p>
        )}
        {note && <p role="status">{note}</p>}
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Saving…" : "Save"}
        </button>
      </form>
    </section>
  );
}
