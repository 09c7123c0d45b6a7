// Generated from the Rust types by ts-rs (src-tauri/src/bindings.rs). Do not edit.
/* eslint-disable */

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type ApiError = { code: ErrorCode, message: string, field: string | null, };

export type ErrorCode = "transport" | "bridge_closed" | "already_running" | "bad_call" | "bad_gateway" | "bad_path" | "bad_request" | "busy" | "cancelled" | "client_setup" | "cloud_init_failed" | "cloud_init_timeout" | "cloud_may_remain" | "cluster_timeout" | "components_failed" | "confirm_mismatch" | "conflict" | "console_config_invalid" | "console_timeout" | "diagnostics_failed" | "domain_invalid" | "draft_unreadable" | "draft_write_failed" | "events_unreadable" | "events_unwritable" | "export_failed" | "file_exists" | "file_unreadable" | "flux_not_reconciling" | "forbidden" | "forget_failed" | "held_elsewhere" | "hetzner_error" | "internal" | "invalid_answers" | "invalid_args" | "invalid_change" | "invalid_domain" | "invalid_fqdn" | "invalid_input" | "invalid_speed" | "json_error" | "key_algorithm_mismatch" | "key_certificate_refused" | "key_control_characters" | "key_damaged" | "key_dss_refused" | "key_ecdsa_curve_refused" | "key_empty" | "key_encoding_failed" | "key_export_failed" | "key_invalid_base64" | "key_is_fingerprint" | "key_is_private" | "key_leading_text" | "key_line_breaks" | "key_missing_data" | "key_missing_space" | "key_missing_type" | "key_multiple" | "key_options_prefix" | "key_pem_format" | "key_random_failed" | "key_rfc4716_format" | "key_rsa_too_long" | "key_rsa_too_short" | "key_security_key_refused" | "key_stored_unreadable" | "key_too_long" | "key_truncated" | "key_unknown_algorithm" | "keyring_failed" | "keyring_unavailable" | "kube_api_unreachable" | "kube_client_failed" | "kubeconfig_invalid" | "kubeconfig_unreadable" | "lb_ip_missing" | "locked" | "maintenance" | "mandatory" | "no_events" | "no_generated_key" | "no_kubeconfig" | "no_space_left_in_location" | "not_an_event_log" | "not_found" | "not_resumable" | "not_running" | "pdm_bad_request" | "pdm_config_invalid" | "pdm_server_error" | "pdm_unauthorized" | "pdm_unavailable" | "plan_failed" | "pdm_unconfigured" | "pdm_unexpected_response" | "pdm_unreachable" | "pdm_wrong_endpoint" | "phase1_nothing_expected" | "phase1_timeout" | "placement_error" | "pool_unsupported" | "profile_invalid" | "profile_too_large" | "profile_unknown_version" | "profile_unreadable" | "protected" | "rate_limit_exceeded" | "record_unreadable" | "record_write_failed" | "registrar_api_unavailable" | "registrar_credential_format" | "registrar_domain_not_in_account" | "registrar_error" | "registrar_invalid_token" | "registrar_missing_field" | "registrar_nameservers_missing" | "registrar_not_configured" | "registrar_rate_limited" | "registrar_unsupported" | "protected_path" | "relative_path" | "report_write_failed" | "request_budget_exhausted" | "reservation_expired" | "reservation_not_found" | "reservation_token_mismatch" | "resource_in_use" | "resource_limit_exceeded" | "resource_locked" | "resource_unavailable" | "robot_unavailable" | "run_did_not_stop" | "secret_empty" | "secret_invalid_env_name" | "secret_invalid_name" | "secret_missing" | "secret_too_large" | "server_error" | "service_error" | "settings_write_failed" | "ssh_auth_rejected" | "ssh_command_failed" | "ssh_failed" | "ssh_host_key_invalid" | "ssh_host_key_mismatch" | "ssh_unreachable" | "still_converging" | "subdomain_already_active" | "subdomain_bad_character" | "subdomain_empty" | "subdomain_ends_with_hyphen" | "subdomain_invalid" | "subdomain_reserved_name" | "subdomain_starts_with_digit" | "subdomain_starts_with_hyphen" | "subdomain_taken" | "subdomain_taken_after_expiry" | "subdomain_too_long" | "terraform_not_named" | "timeout" | "tofu_cache_is_mirror" | "tofu_cancelled" | "tofu_env_too_large" | "tofu_failed" | "tofu_invalid_input" | "tofu_killed" | "tofu_not_found" | "tofu_output_unreadable" | "tofu_path_missing" | "tofu_spawn_failed" | "tofu_too_old" | "tofu_version_unreadable" | "tofu_write_failed" | "token_readonly" | "transport_error" | "unauthorized" | "unavailable" | "unexpected_response" | "uniqueness_error" | "unsupported_pool" | "user_data_too_large" | "wipe_failed" | "wipe_in_progress";

export type AppInfo = { version: string, mode: Mode, 
/**
 * Why the app is in this mode, in one sentence for the banner.
 */
mode_reason: string, 
/**
 * Live mode: the pool-domain-manager runs reserve names with.
 */
pdm_url: string | null, 
/**
 * Live mode: the Hetzner API the app talks to.
 */
hetzner_api: string | null, data_dir: string, log_dir: string, };

export type EngineCheck = { 
/**
 * Demo runs use the simulated cloud and no engine.
 */
demo: boolean, 
/**
 * The engine found (OpenTofu or Terraform), its version and path.
 */
binary: TofuBinary | null, 
/**
 * What the operator must know before a run with it (Terraform: plaintext state).
 */
warning: string | null, 
/**
 * Why no usable engine was found, in a sentence with what to do.
 */
error: string | null, };

export type PlanArgs = { answers: WizardAnswers, };

export type Draft = { answers: WizardAnswers, 
/**
 * The mode its checks were made in (`None`: saved by an older version).
 */
checked_in: Mode | null, 
/**
 * What to do again, in the operator's words ("validate the Hetzner token").
 */
recheck: Array<string>, 
/**
 * The sentence that says so, when there is something to do again.
 */
note: string | null, };

export type PlanPreview = { fqdn: string, 
/**
 * Resources to create, by type (sorted by type).
 */
resources: Array<ResourceCount>, add: number, change: number, remove: number, hourly_eur: number, monthly_eur: number, 
/**
 * The engine that planned ("OpenTofu 1.10.6"; demo: "the simulated cloud").
 */
engine: string, 
/**
 * Demo mode: the simulated cloud's list, not a plan.
 */
simulated: boolean, 
/**
 * How long the plan took (init included), in seconds.
 */
seconds: number, 
/**
 * Which Let's Encrypt the Sovereign's certificates come from (Settings).
 */
certificates: Certificates, };

export type ResourceCount = { 
/**
 * `hcloud_server`, `hcloud_load_balancer`, …
 */
resource_type: string, count: number, };

export type TofuBinary = { path: string, version: string, engine: EngineKind, };

export type EngineKind = "opentofu" | "terraform";

export type Mode = "demo" | "live";

export type Certificates = "production" | "staging";

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
ssh_allowed_cidrs: Array<string>, 
/**
 * Which token the cluster's cloud controller, CSI driver and
 * autoscaler get (kept in the cluster, revocable on its own).
 */
cluster_token: ClusterToken, 
/**
 * True once a separate cluster token was validated and kept in the keyring.
 */
cluster_token_validated: boolean, };

export type SshKeyMode = "generate" | "paste";

export type ClusterToken = "same" | "separate";

export type Domain = { mode: DomainMode, pool_domain: string, subdomain: string, byo_domain: string, 
/**
 * Registrar adapter for `byo_api`; its credential lives in the keyring.
 */
registrar: string | null, 
/**
 * True once the registrar credential was validated through PDM.
 */
registrar_validated: boolean, admin_email: string, 
/**
 * What the pool-domain-manager last said about `subdomain.pool_domain`
 * (the engine's `domain_check` answer, copied here by the front end).
 * The Domain step passes only when it is about the current name and says
 * available; `provision_start` asks again and never trusts this copy.
 */
availability: Availability | null, };

export type DomainMode = "pool" | "byo_manual" | "byo_api";

export type WizardOptions = { industries: Array<string>, org_sizes: Array<string>, compliance_frameworks: Array<string>, pool_domains: Array<string>, registrars: Array<RegistrarInfo>, nameservers: Array<string>, reserved_subdomains: Array<string>, max_workers: number, };

export type WizardChange = { "type": "topology", topology: Topology, } | { "type": "location", region: number, location: string, } | { "type": "control_plane_type", region: number, server_type: string, } | { "type": "worker_count", region: number, count: number, } | { "type": "domain_mode", mode: DomainMode, } | { "type": "registrar", registrar: string | null, } | { "type": "byo_domain", domain: string, } | { "type": "add_component", id: string, } | { "type": "remove_component", id: string, } | { "type": "reset_components" };

export type ChangeArgs = { answers: WizardAnswers, change: WizardChange, };

export type ChangeOutcome = { answers: WizardAnswers, 
/**
 * Components added or removed along with the one asked for.
 */
also_changed: Array<string>, 
/**
 * A sentence for the operator when something else was reset.
 */
note: string | null, };

export type RemovalArgs = { selected: Array<string>, id: string, };

export type Catalog = { 
/**
 * Date of the catalog data.
 */
version: string, families: Array<Family>, components: Array<Component>, };

export type Family = { id: string, name: string, subtitle: string, tier: Tier, 
/**
 * Selecting any member selects the whole family (CORTEX).
 */
cascade_on_member_selection: boolean, };

export type Component = { id: string, name: string, description: string, family: string, 
/**
 * After promotion: a dependency of a mandatory component is mandatory.
 */
tier: Tier, dependencies: Array<string>, footprint: Footprint, };

export type Tier = "mandatory" | "recommended" | "optional";

export type Footprint = { memory_mib: number, cpu_millis: number, };

export type Selection = { selected: Array<string>, 
/**
 * Added by dependency/cascade (add) or taken along (removal), besides the one asked for.
 */
also_changed: Array<string>, };

export type Estimate = { regions: Array<RegionEstimate>, hourly_eur: number, monthly_eur: number, 
/**
 * Requests of the selected components alone.
 */
components: Footprint, 
/**
 * How many components the run installs and counts: the selection and the
 * bootstrap kit the cluster brings (some of it is not in the catalog).
 */
releases: number, 
/**
 * One sentence when a region is too small, for the Components step and Review.
 */
warning: string | null, };

export type RegionEstimate = { location: string, control_planes: number, hourly_eur: number, monthly_eur: number, 
/**
 * Allocatable resources of the region's servers.
 */
capacity: Footprint, 
/**
 * What the components and control planes request in this region.
 */
needed: Footprint, fits: boolean, 
/**
 * Parts that could not be priced (type not orderable in the location).
 */
unpriced: Array<string>, };

export type ServerOffers = { source: OfferSource, locations: Array<Location>, server_types: Array<ServerType>, load_balancer: LoadBalancerType, };

export type OfferSource = { "kind": "snapshot", taken_on: string, } | { "kind": "live", fetched_at: string, };

export type Location = { name: string, city: string, country: string, network_zone: string, };

export type Price = { location: string, 
/**
 * Net EUR, as strings in Hetzner's format; parsed with `hourly()`/`monthly()`.
 */
hourly_eur: string, monthly_eur: string, };

export type ServerType = { name: string, cores: number, memory_gb: number, disk_gb: number, cpu_type: string, architecture: string, category: string, 
/**
 * One entry per location where the type can be ordered.
 */
prices: Array<Price>, };

export type LoadBalancerType = { name: string, prices: Array<Price>, };

export type TokenArgs = { token: string, };

export type TokenCheckView = { scope: TokenScope, message: string, };

export type TokenScope = "read_write" | "read_only" | "invalid";

export type FqdnArgs = { 
/**
 * The Sovereign's name when already known (key comment, file name).
 */
fqdn: string, };

export type SshParseArgs = { text: string, };

export type ExportOutcome = { 
/**
 * Where the key was written; `None` when the operator cancelled.
 */
path: string | null, };

export type AdminKeyInfo = { 
/**
 * `ssh-ed25519 AAAA… catalyst@<fqdn>`
 */
public_openssh: string, 
/**
 * `SHA256:…`, as `ssh-keygen -l` prints it.
 */
fingerprint: string, comment: string, };

export type ParsedPublicKey = { algorithm: KeyAlgorithm, bits: number, openssh: string, 
/**
 * `SHA256:…`, as `ssh-keygen -l` prints it.
 */
fingerprint: string, comment: string, };

export type AgentCheck = { state: AgentKeyState, 
/**
 * The agent's socket, when one is configured.
 */
socket: string | null, 
/**
 * How many keys the agent holds (when it answered).
 */
keys: number | null, message: string, };

export type ConsoleHandover = { 
/**
 * The console's address, without the token.
 */
console: string, 
/**
 * The address with the token; the front end opens it when the app
 * could not (a browser over the bridge). Good for one login only.
 */
url: string, 
/**
 * Whether the app opened the system browser itself.
 */
opened: boolean, 
/**
 * RFC 3339: the token is refused after this.
 */
expires_at: string, };

export type AgentKeyState = "held" | "not_held" | "no_agent" | "unreachable";

export type KeyAlgorithm = "ed25519" | "ecdsa_p256" | "rsa";

export type DomainCheckArgs = { pool: string, subdomain: string, };

export type Availability = { subdomain: string, pool: string, fqdn: string, available: boolean, reason: CheckReason | null, 
/**
 * The reason code as PDM sent it (kept for unknown reasons and logs).
 */
reason_code: string | null, title: string, message: string, 
/**
 * True when the local rule answered and PDM was not asked.
 */
checked_locally: boolean, };

export type CheckReason = "invalid-format" | "unsupported-pool" | "reserved" | "reserved-state" | "active-state" | "unknown-state" | "other";

export type RegistrarInfo = { kind: RegistrarKind, label: string, credential_hint: string, propagation: string, };

export type RegistrarKind = "cloudflare" | "namecheap" | "godaddy" | "ovh" | "dynadot";

export type RegistrarArgs = { registrar: RegistrarKind, domain: string, 
/**
 * The registrar API credential; it goes to the keyring, never to answers.
 */
credential: string, };

export type RegistrarValidation = { registrar: RegistrarKind, domain: string, valid: boolean, };

export type StartArgs = { answers: WizardAnswers, 
/**
 * Demo runs only: which story to tell and how fast (default ×10, about two minutes).
 */
scenario: DemoScenario | null, speed: number | null, };

export type WipeArgs = { id: string, 
/**
 * Must equal the deployment's FQDN.
 */
confirm: string, 
/**
 * The second confirmation, asked for when the wipe answered
 * `still_converging` (the Sovereign is still installing its components).
 */
converging_ok: boolean, };

export type WipeReport = { 
/**
 * `<kind> <name> (id N)` per deleted resource; `tofu destroy: …` for what the state removed.
 */
deleted: Array<string>, 
/**
 * Deletes sent whose answer was never recorded (the wipe crashed
 * meanwhile); a later clean sweep proves them gone and moves them to `deleted`.
 */
pending: Array<string>, 
/**
 * Deletes that had to be tried again, with the reason.
 */
retried: Array<string>, 
/**
 * What could not be removed, with why.
 */
left: Array<string>, 
/**
 * Steps that failed but did not stop the wipe (e.g. `tofu destroy`).
 */
errors: Array<string>, 
/**
 * True only when the final sweep found nothing left.
 */
clean: boolean, dns_released: boolean, tofu_destroyed: boolean, 
/**
 * The tofu directory and kubeconfig were removed (only after a clean sweep).
 */
local_cleaned: boolean, 
/**
 * How many wipes worked on this deployment to reach this report.
 */
attempts: number, started_at: string, 
/**
 * Empty while the wipe is going (or when it crashed).
 */
finished_at: string, };

export type Delegation = { domain: string, 
/**
 * True when every expected nameserver is among the domain's NS records.
 */
visible: boolean, 
/**
 * The NS records DNS answered with (lower case, no trailing dot).
 */
seen: Array<string>, expected: Array<string>, message: string, };

export type ForgetArgs = { id: string, 
/**
 * The operator read that cloud resources may remain (the deployment was
 * not wiped clean) and forgets it anyway.
 */
cloud_may_remain: boolean, };

export type IdArgs = { id: string, };

export type EventsArgs = { id: string, 
/**
 * Events after this one (0: from the start).
 */
since_seq: number, };

export type DeploymentSummary = { id: string, fqdn: string, demo: boolean, status: RunStatus | null, phase: Phase | null, created_at: string, updated_at: string, 
/**
 * Set when record.json is unreadable: the record is reported, never deleted.
 */
problem: string | null, 
/**
 * What the servers cost per hour while they may exist (list price
 * estimate); `None` once wiped or when unknown.
 */
eur_per_hour: number | null, };

export type DeploymentRecord = { id: string, fqdn: string, 
/**
 * Demo runs use the simulated cloud; they are kept apart and marked.
 */
demo: DemoSettings | null, created_at: string, updated_at: string, status: RunStatus, 
/**
 * The phase running now, or the one the run stopped in.
 */
phase: Phase | null, completed: Array<Phase>, answers: WizardAnswers, outputs: RunOutputs, failure: Failure | null, 
/**
 * The IaC engine (OpenTofu or Terraform), its version and path, as the
 * live run found it; None for demo runs and before preflight.
 */
engine: TofuBinary | null, };

export type RunStatus = "running" | "interrupted" | "failed" | "cancelled" | "done" | "wiping" | "wipe_incomplete" | "wiped";

export type DemoScenario = "happy_path" | "quota_exceeded" | "component_retry";

export type DemoSettings = { scenario: DemoScenario, 
/**
 * How many times faster than real timings (1–60).
 */
speed: number, seed: number, };

export type RunOutputs = { console_url: string | null, gitea_url: string | null, load_balancer_ips: Array<string>, control_plane_ips: Array<string>, kubeconfig_path: string | null, 
/**
 * Own-domain runs: whether DNS shows the delegation yet (checked at the end, never blocking).
 */
delegation: Delegation | null, 
/**
 * Each region's own addresses and kubeconfig, in the answers' order
 * (the primary first); empty for runs recorded before regions were.
 */
regions: Array<RegionOutputs>, };

export type RegionOutputs = { location: string, 
/**
 * Its control planes' public IPv4 addresses, the first one first.
 */
control_plane_ips: Array<string>, load_balancer_ip: string | null, 
/**
 * This region's kubeconfig alone (the run's kubeconfig has a context per region).
 */
kubeconfig_path: string | null, };

export type Failure = { phase: Phase, error: string, hint: string, 
/**
 * What kind of failure, where the app knows (the CLI's exit code
 * tells a refused token, a quota and a taken name apart by it).
 */
code?: ErrorCode, };

export type ProvisionEvent = { deployment_id: string, seq: number, 
/**
 * RFC 3339 UTC timestamp.
 */
at: string, phase: Phase, 
/**
 * The region (its location) a multi-region run's cluster phases speak
 * of; absent for the run as a whole.
 */
region?: string, kind: EventKind, };

export type EventKind = { "type": "phase_started" } | { "type": "progress", done: number, total: number, label: string, } | { "type": "resource", address: string, action: string, state: string, elapsed_s: number, } | { "type": "component", name: string, state: string, message: string, } | { "type": "log", level: LogLevel, source: string, line: string, } | { "type": "phase_finished", duration_s: number, } | { "type": "phase_failed", error: string, hint: string, } | { "type": "phase_cancelled" } | { "type": "region", state: string, detail: string, } | { "type": "done", console_url: string, };

export type Phase = "preflight" | "reserve_domain" | "tofu_init" | "tofu_plan" | "tofu_apply" | "dns_commit" | "cloud_init" | "kubeconfig" | "bootstrap" | "console" | "done" | "wipe";

export type LogLevel = "debug" | "info" | "warn" | "error";

export type SaveArgs = { id: string, 
/**
 * Where to write (absolute). Without it the window asks with its
 * "Save as…" dialog; without a window it goes to the exports folder.
 */
path: string | null, 
/**
 * Replace a file already at `path` (the CLI's --force). The dialog asks
 * on its own; without either an existing file is refused.
 */
overwrite?: boolean, };

export type EventsExport = { 
/**
 * Where the log was written; `None` when the operator cancelled.
 */
path: string | null, events: number, 
/**
 * Events in which something secret was found and masked (expected: 0).
 */
masked: number, };

export type ReplayArgs = { 
/**
 * The file's content (the window and the browser read the file the
 * operator picked), or
 */
text: string | null, 
/**
 * an absolute path to read (CLI, tests).
 */
path: string | null, 
/**
 * ×1 (original timings) to ×600; default ×1.
 */
speed: number | null, };

export type Replay = { header: EventLogHeader, speed: number, events: Array<ProvisionEvent>, offsets_ms: Array<number>, };

export type EventLogHeader = { format: string, version: number, 
/**
 * When the run was started (RFC 3339 UTC).
 */
recorded_at: string, 
/**
 * When the file was written.
 */
exported_at: string, fqdn: string, 
/**
 * The version of the app that wrote the file.
 */
app_version: string, 
/**
 * The run used the simulated cloud.
 */
demo: boolean, 
/**
 * How the run stood when it was exported.
 */
status: RunStatus | null, 
/**
 * How many event lines follow; a shorter file was cut short.
 */
events: number, };

export type SettingsView = { values: SettingsValues, secrets: SecretStates, 
/**
 * What an empty field means (placeholders on the page).
 */
defaults: SettingsValues, 
/**
 * Where the settings are kept, and which keyring holds the secrets.
 */
config_file: string, keyring: string, 
/**
 * The mode the app runs in now: a saved change takes effect at once
 * unless something keeps it, and then `mode_pending` says what.
 */
running_mode: Mode, mode_pending: string | null, 
/**
 * Set when the keyring could not be asked: the page still opens and says why.
 */
keyring_error: string | null, };

export type SettingsValues = { mode: Mode | null, pdm_url: string, pdm_username: string, pool_domains: Array<string>, nameservers: Array<string>, gitops_url: string, gitops_branch: string, registry_mirror_url: string, registry_mirror_upstream: string, registry_mirror_username: string, 
/**
 * Harbor proxy-cache project the mirror serves the upstream under.
 */
registry_mirror_project: string, pull_registry: string, pull_username: string, hetzner_endpoint: string, tofu_path: string, provider_mirror: string, timeouts: PhaseTimeouts, 
/**
 * Let's Encrypt production (`None`) or staging.
 */
certificates: Certificates | null, };

export type PhaseTimeouts = { preflight: number | null, reserve_domain: number | null, tofu_init: number | null, tofu_plan: number | null, tofu_apply: number | null, dns_commit: number | null, cloud_init: number | null, kubeconfig: number | null, bootstrap: number | null, console: number | null, };

export type SecretKey = "pdm_password" | "registry_mirror_password" | "pull_password";

export type SecretState = "set" | "not_set";

export type SecretStates = { pdm_password: SecretState, registry_mirror_password: SecretState, pull_password: SecretState, };

export type SecretValue = { key: SecretKey, value: string, };

export type SettingsSaveArgs = { values: SettingsValues, 
/**
 * New values for these secrets.
 */
set_secrets: Array<SecretValue>, 
/**
 * Remove these secrets from the keyring.
 */
clear_secrets: Array<SecretKey>, };

export type SaveOutcome = { 
/**
 * False when a field was wrong: nothing was written.
 */
saved: boolean, errors: Array<FieldError>, settings: SettingsView, };

export type PathArgs = { path: string, };

export type ProfilePreview = { path: string, name: string, version: number, changes: Array<SettingChange>, 
/**
 * Secrets the profile brings, values never shown.
 */
secrets: Array<SecretPreview>, 
/**
 * Problems with the settings the profile would leave; Apply refuses them.
 */
errors: Array<FieldError>, };

export type SettingChange = { key: string, 
/**
 * Empty: the default.
 */
from: string, to: string, };

export type SecretPreview = { key: SecretKey, 
/**
 * Whether the keyring holds one now (the profile's value replaces it).
 */
now: SecretState, };

export type PickOutcome = { 
/**
 * The chosen file; `None` when cancelled or when there is no dialog.
 */
path: string | null, 
/**
 * False without a window (browser, CLI): type the path instead.
 */
dialog: boolean, };

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
  wizard_options: { args: null; result: WizardOptions };
  server_offers: { args: null; result: ServerOffers };
  component_catalog: { args: null; result: Catalog };
  draft_load: { args: null; result: Draft | null };
  draft_clear: { args: null; result: null };
  deployments_list: { args: null; result: Array<DeploymentSummary> };
  settings_get: { args: null; result: SettingsView };
  profile_pick: { args: null; result: PickOutcome };
  engine_check: { args: null; result: EngineCheck };
  wizard_validate: { args: ValidateArgs; result: Array<FieldError> };
  draft_save: { args: WizardAnswers; result: null };
  wizard_change: { args: ChangeArgs; result: ChangeOutcome };
  wizard_estimate: { args: WizardAnswers; result: Estimate };
  component_removal: { args: RemovalArgs; result: Selection };
  token_check: { args: TokenArgs; result: TokenCheckView };
  cluster_token_check: { args: TokenArgs; result: TokenCheckView };
  ssh_generate: { args: FqdnArgs; result: AdminKeyInfo };
  ssh_parse: { args: SshParseArgs; result: ParsedPublicKey };
  ssh_agent_check: { args: SshParseArgs; result: AgentCheck };
  ssh_export: { args: FqdnArgs; result: ExportOutcome };
  domain_check: { args: DomainCheckArgs; result: Availability };
  registrar_validate: { args: RegistrarArgs; result: RegistrarValidation };
  plan_preview: { args: PlanArgs; result: PlanPreview };
  provision_start: { args: StartArgs; result: DeploymentSummary };
  provision_resume: { args: IdArgs; result: DeploymentSummary };
  provision_cancel: { args: IdArgs; result: null };
  deployment_get: { args: IdArgs; result: DeploymentRecord };
  deployment_events: { args: EventsArgs; result: Array<ProvisionEvent> };
  deployment_wipe: { args: WipeArgs; result: WipeReport };
  deployment_diagnostics: { args: SaveArgs; result: ExportOutcome };
  deployment_console_open: { args: IdArgs; result: ConsoleHandover };
  deployment_kubeconfig_save: { args: SaveArgs; result: ExportOutcome };
  deployment_events_export: { args: SaveArgs; result: EventsExport };
  replay_load: { args: ReplayArgs; result: Replay };
  deployment_forget: { args: ForgetArgs; result: null };
  deployment_wipe_report: { args: IdArgs; result: WipeReport | null };
  settings_save: { args: SettingsSaveArgs; result: SaveOutcome };
  profile_preview: { args: PathArgs; result: ProfilePreview };
  profile_apply: { args: PathArgs; result: SaveOutcome };
};

export type CommandName = keyof Commands;
