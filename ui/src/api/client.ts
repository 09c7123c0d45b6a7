// The one typed API the UI uses. Command names, arguments and answers come
// from `bindings.ts`, generated from the Rust types.
import type { CommandName, Commands, JsonValue } from "./bindings";
import { defaultTransport, toApiError, type EventHandler, type EventName, type Transport } from "./transport";

let transport: Transport | null = null;

export function setTransport(t: Transport) {
  transport = t;
}

function current(): Transport {
  transport ??= defaultTransport();
  return transport;
}

export function transportKind(): Transport["kind"] {
  return current().kind;
}

type ArgsOf<K extends CommandName> = Commands[K]["args"] extends null ? [] : [Commands[K]["args"]];

/** Calls an engine command; rejects with an `ApiError`. */
export async function call<K extends CommandName>(cmd: K, ...args: ArgsOf<K>): Promise<Commands[K]["result"]> {
  try {
    return (await current().call(cmd, args[0] as JsonValue | undefined)) as Commands[K]["result"];
  } catch (e) {
    throw toApiError(e);
  }
}

/** Subscribes to engine events; returns the unsubscribe function. */
export function listen(name: EventName, handler: EventHandler): () => void {
  return current().listen(name, handler);
}
