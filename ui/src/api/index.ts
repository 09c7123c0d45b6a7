export * from "./client";
export type * from "./bindings";
export { BridgeTransport, TauriTransport, insideTauri, bridgeToken, toApiError } from "./transport";
export type { Transport } from "./transport";
