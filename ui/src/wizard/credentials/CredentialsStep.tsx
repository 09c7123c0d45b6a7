import { useState } from "react";
import { call, type ApiError } from "../../api";
import { describedBy, Field } from "../Field";
import type { StepProps } from "../types";
import { AgentStatus } from "./AgentStatus";
import { ClusterTokenSection } from "./ClusterTokenSection";

type TokenState = { state: "idle" | "checking" | "done"; ok?: boolean; message?: string };

/** Demo mode's token, offered openly: no credentials are needed there. */
const DEMO_TOKEN = "demo-token";
/** Hetzner's API tokens are this long (the engine checks the form before any call). */
const TOKEN_LEN = 64;

/** The ranges typed: one per line, or separated by commas or spaces. */
export function splitCidrs(text: string) {
  return text.split(/[\s,;]+/).filter(Boolean);
}

export function CredentialsStep({ answers, update, errorFor, errorNow, touch, reloadOffers, demo }: StepProps) {
  const c = answers.credentials;
  const setCred = (patch: Partial<typeof c>) => update((a) => ({ ...a, credentials: { ...a.credentials, ...patch } }));
  // The token lives in this component only until the engine has it in the keyring.
  const [token, setToken] = useState("");
  const [showToken, setShowToken] = useState(false);
  const [check, setCheck] = useState<TokenState>({ state: "idle" });
  const [pasted, setPasted] = useState(c.ssh_key_mode === "paste" ? c.ssh_public_key : "");
  // What went wrong with the key (generate, parse, export), and what export did.
  const [keyMessage, setKeyMessage] = useState<string | null>(null);
  const [keyNote, setKeyNote] = useState<string | null>(null);
  const [cidrText, setCidrText] = useState(c.ssh_allowed_cidrs.join("\n"));
  const fqdn = answers.domain.mode === "pool" ? (answers.domain.subdomain ? `${answers.domain.subdomain}.${answers.domain.pool_domain}` : "") : answers.domain.byo_domain;

  const validate = async (value = token) => {
    if (!value.trim()) return;
    setCheck({ state: "checking" });
    try {
      const r = await call("token_check", { token: value });
      const ok = r.scope === "read_write";
      setCheck({ state: "done", ok, message: r.message });
      setCred({ token_validated: ok });
      if (ok) {
        setToken("");
        // The engine now has this token's live server types and prices.
        reloadOffers();
      }
    } catch (e) {
      setCheck({ state: "done", ok: false, message: (e as ApiError).message });
      setCred({ token_validated: false });
    }
  };

  const generate = async () => {
    setKeyMessage(null);
    setKeyNote(null);
    try {
      const k = await call("ssh_generate", { fqdn });
      setCred({ ssh_key_mode: "generate", ssh_public_key: k.public_openssh, ssh_fingerprint: k.fingerprint });
    } catch (e) {
      setKeyMessage((e as ApiError).message);
    }
  };

  const parse = async (text: string) => {
    setPasted(text);
    if (!text.trim()) {
      setCred({ ssh_key_mode: "paste", ssh_public_key: "", ssh_fingerprint: "" });
      return;
    }
    try {
      const k = await call("ssh_parse", { text });
      setCred({ ssh_key_mode: "paste", ssh_public_key: k.openssh, ssh_fingerprint: k.fingerprint });
      setKeyMessage(null);
    } catch (e) {
      // The raw paste stays in this component only: the answers (and so the
      // draft on disk) never hold text the parser refused, a private key above all.
      setCred({ ssh_key_mode: "paste", ssh_public_key: "", ssh_fingerprint: "" });
      setKeyMessage((e as ApiError).message);
    }
  };

  const exportKey = async () => {
    try {
      const r = await call("ssh_export", { fqdn });
      setKeyMessage(null);
      setKeyNote(r.path ? `Private key saved to ${r.path} (readable by you only).` : "Export cancelled; the key stays in the keyring.");
    } catch (e) {
      setKeyMessage((e as ApiError).message);
    }
  };

  // The token check's own answer is more precise than "validate first".
  const tokenErr = (check.state === "done" && !check.ok ? check.message : undefined) ?? errorFor("credentials.token");
  // The parser's sentence about the paste is more precise than the engine's "paste a key".
  const pasteErr = c.ssh_key_mode === "paste" && !c.ssh_fingerprint && pasted.trim() ? (keyMessage ?? undefined) : undefined;
  // A failed Generate or export says why; the engine's "generate a key" comes after.
  const generateErr = c.ssh_key_mode === "generate" ? (keyMessage ?? undefined) : undefined;
  const keyErr = pasteErr ?? generateErr ?? errorFor("credentials.ssh_public_key");
  // Checked when the field is left (not at each key), every bad range named.
  const [cidrLeft, setCidrLeft] = useState(false);
  const cidrErrors = c.ssh_allowed_cidrs.map((_, i) => (cidrLeft ? errorNow : errorFor)(`credentials.ssh_allowed_cidrs.${i}`)).filter(Boolean);

  return (
    <div className="credentials">
      <section aria-labelledby="token-title">
        <h2 id="token-title">Hetzner Cloud API token</h2>
        <Field id="credentials-token" label="API token (read & write)" error={tokenErr} hint="Hetzner Console → your project → Security → API tokens → Generate, with Read & Write. Kept in the OS keyring, never in a file.">
          <div className="inline">
            <input
              id="credentials-token"
              type={showToken ? "text" : "password"}
              value={token}
              autoComplete="off"
              spellCheck={false}
              placeholder={c.token_validated ? "A validated token is in the keyring" : "Paste the token"}
              aria-invalid={!!tokenErr}
              aria-describedby={describedBy("credentials-token", tokenErr, "x")}
              onChange={(e) => {
                setToken(e.target.value);
                setCheck({ state: "idle" });
              }}
              onBlur={() => touch("credentials.token")}
              onKeyDown={(e) => {
                // Enter checks the token (it would otherwise submit the step).
                if (e.key === "Enter") {
                  e.preventDefault();
                  void validate();
                }
              }}
            />
            <button type="button" className="secondary" aria-pressed={showToken} onClick={() => setShowToken((s) => !s)}>
              {showToken ? "Hide" : "Show"}
            </button>
            <button type="button" className="primary" disabled={!token.trim() || check.state === "checking"} onClick={() => void validate()}>
              {check.state === "checking" ? "Checking…" : "Validate"}
            </button>
            {demo && (
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setToken(DEMO_TOKEN);
                  void validate(DEMO_TOKEN);
                }}
              >
                Use the demo token
              </button>
            )}
          </div>
        </Field>
        {!demo && token.length > 0 && (
          <p className="hint" data-testid="token-length">
            {token.trim().length} of {TOKEN_LEN} characters
          </p>
        )}
        <p className="availability" role="status" aria-live="polite">
          {check.state === "done" && check.ok && <span className="ok">{check.message}</span>}
          {check.state === "idle" && c.token_validated && <span className="ok">A read-write token is validated and kept in the OS keyring.</span>}
        </p>
      </section>

      <ClusterTokenSection c={c} setCred={setCred} error={errorFor("credentials.cluster_token")} touch={() => touch("credentials.cluster_token")} demo={!!demo} />

      <section aria-labelledby="ssh-title">
        <h2 id="ssh-title">Admin SSH key</h2>
        <fieldset className="cards two">
          <legend>How to provide it</legend>
          <label className={`card${c.ssh_key_mode === "generate" ? " selected" : ""}`}>
            <input type="radio" name="ssh-mode" checked={c.ssh_key_mode === "generate"} onChange={() => {
                setKeyMessage(null);
                setCred({ ssh_key_mode: "generate", ssh_public_key: "", ssh_fingerprint: "" });
              }} />
            <span className="card-title">Generate (recommended)</span>
            <span className="card-text">An ed25519 key made here; the private half stays in the OS keyring until you export it.</span>
          </label>
          <label className={`card${c.ssh_key_mode === "paste" ? " selected" : ""}`}>
            <input type="radio" name="ssh-mode" checked={c.ssh_key_mode === "paste"} onChange={() => setCred({ ssh_key_mode: "paste", ssh_public_key: "", ssh_fingerprint: "" })} />
            <span className="card-title">Paste a public key</span>
            <span className="card-text">ed25519, ecdsa-sha2-nistp256 or RSA of 2048 bits or more.</span>
          </label>
        </fieldset>
        {c.ssh_key_mode === "generate" ? (
          <div className="key-box">
            <div className="inline">
              <button type="button" className="primary" onClick={() => void generate()}>
                {c.ssh_public_key ? "Generate a new key" : "Generate key"}
              </button>
              {c.ssh_public_key && (
                <button type="button" className="secondary" onClick={() => void exportKey()}>
                  Export private key…
                </button>
              )}
            </div>
            {c.ssh_public_key && (
              <p className="key-line">
                <code>{c.ssh_public_key}</code>
              </p>
            )}
            {keyErr && <p className="field-error" role="alert">{keyErr}</p>}
          </div>
        ) : (
          <Field id="credentials-ssh-public-key" label="Public key" error={keyErr}>
            <textarea
              id="credentials-ssh-public-key"
              rows={3}
              value={pasted}
              spellCheck={false}
              placeholder="ssh-ed25519 AAAA… you@laptop"
              aria-invalid={!!keyErr}
              aria-describedby={describedBy("credentials-ssh-public-key", keyErr)}
              onChange={(e) => void parse(e.target.value)}
              onBlur={() => touch("credentials.ssh_public_key")}
            />
          </Field>
        )}
        {c.ssh_fingerprint && (
          <p>
            Fingerprint: <code data-testid="ssh-fingerprint">{c.ssh_fingerprint}</code>
            {keyNote && c.ssh_key_mode === "generate" && <span className="hint"> · {keyNote}</span>}
          </p>
        )}
        {c.ssh_key_mode === "paste" && c.ssh_fingerprint && <AgentStatus publicKey={c.ssh_public_key} demo={!!demo} />}
      </section>

      <section aria-labelledby="cidr-title">
        <h2 id="cidr-title">Who may reach SSH</h2>
        <Field
          id="credentials-ssh-allowed-cidrs"
          label="Address ranges allowed to port 22"
          error={cidrErrors.length > 0 ? cidrErrors.join(" ") : undefined}
          hint="One per line, or separated by commas or spaces. Leave empty to allow any address; only the admin key can log in, passwords are off."
        >
          <textarea
            id="credentials-ssh-allowed-cidrs"
            rows={3}
            value={cidrText}
            placeholder="203.0.113.0/24"
            spellCheck={false}
            aria-invalid={cidrErrors.length > 0}
            aria-describedby={describedBy("credentials-ssh-allowed-cidrs", cidrErrors[0], "x")}
            onChange={(e) => {
              setCidrText(e.target.value);
              setCred({ ssh_allowed_cidrs: splitCidrs(e.target.value) });
            }}
            onBlur={() => setCidrLeft(true)}
          />
        </Field>
        {c.ssh_allowed_cidrs.length === 0 && <p className="warning">SSH is open to any address (key-only). Restrict it if you know where you connect from.</p>}
      </section>
    </div>
  );
}
