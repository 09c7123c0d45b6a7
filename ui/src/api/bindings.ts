// Generated from the Rust types by ts-rs (src-tauri/src/bindings.rs). Do not edit.
/* eslint-disable */

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type ApiError = { code: string, message: string, field: string | null, };

export type AppInfo = { version: string, mode: Mode, 
/**
 * Why the app is in this mode, in one sentence for the banner.
 */
mode_reason: string, data_dir: string, log_dir: string, };

export type Mode = "demo" | "live";

export type StepInfo = { step: Step, number: number, title: string, };

export type Step = "organisation" | "topology" | "provider" | "credentials" | "components" | "domain" | "review";

export type ValidateArgs = { step: Step, answers: WizardAnswers, };

export type FieldError = { 
/**
 * Dotted path into the answers, e.g. `organisation.name` or `regions.1.location`.
 */
field: string, message: string, };

export type WizardAnswers = { organisation: Organisation, topology: Topology, ha: boolean, regions: Array<Region>, credentials: Credentials, components: Array<string>, domain: Domain, };

export type Organisation = { name: string, headquarters: string, industry: string, size: string, compliance: Array<string>, };

export type Topology = "SOLO" | "DUAL" | "TRIANGLE";

export type Region = { 
/**
 * Hetzner location code, e.g. `fsn1`.
 */
location: string, control_plane_type: string, worker_count: number, worker_type: string, };

export type Credentials = { 
/**
 * True once a read-write token has been validated and stored in the keyring.
 */
token_validated: boolean, ssh_key_mode: SshKeyMode, 
/**
 * The admin public key in OpenSSH format (generated or pasted).
 */
ssh_public_key: string, ssh_fingerprint: string, 
/**
 * CIDRs allowed to reach port 22; empty means "anywhere, key-only".
 */
ssh_allowed_cidrs: Array<string>, };

export type SshKeyMode = "generate" | "paste";

export type Domain = { mode: DomainMode, pool_domain: string, subdomain: string, byo_domain: string, 
/**
 * Registrar adapter for `byo_api`; its credential lives in the keyring.
 */
registrar: string | null, admin_email: string, };

export type DomainMode = "pool" | "byo_manual" | "byo_api";

export type ProvisionEvent = { deployment_id: string, seq: number, 
/**
 * RFC 3339 UTC timestamp.
 */
at: string, phase: Phase, kind: EventKind, };

export type EventKind = { "type": "phase_started" } | { "type": "progress", done: bigint, total: bigint, label: string, } | { "type": "resource", address: string, action: string, state: string, elapsed_s: number, } | { "type": "component", name: string, state: string, message: string, } | { "type": "log", level: LogLevel, source: string, line: string, } | { "type": "phase_finished", duration_s: number, } | { "type": "phase_failed", error: string, hint: string, } | { "type": "done", console_url: string, };

export type Phase = "preflight" | "reserve_domain" | "tofu_init" | "tofu_plan" | "tofu_apply" | "dns_commit" | "cloud_init" | "kubeconfig" | "bootstrap" | "console" | "done" | "wipe";

export type LogLevel = "debug" | "info" | "warn" | "error";

export type BridgeRequest = { 
/**
 * Chosen by the client; echoed in the reply.
 */
id: number, 
/**
 * `{"cmd": name, "args": ...}` as in `Commands`.
 */
call: { cmd: CommandName; args?: JsonValue }, };

export type ServerMessage = { "type": "reply", id: number, result: JsonValue, error: ApiError | null, } | { "type": "event", name: string, payload: ProvisionEvent, };

/** Every command: its arguments (null: none) and its answer. */
export type Commands = {
  app_info: { args: null; result: AppInfo };
  wizard_steps: { args: null; result: Array<StepInfo> };
  wizard_defaults: { args: null; result: WizardAnswers };
  draft_load: { args: null; result: WizardAnswers | null };
  draft_clear: { args: null; result: null };
  wizard_validate: { args: ValidateArgs; result: Array<FieldError> };
  draft_save: { args: WizardAnswers; result: null };
};

export type CommandName = keyof Commands;
