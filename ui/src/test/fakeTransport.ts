import { setTransport, type Transport } from "../api";

/** The fake engine's answer to each command, by name; a throw is the engine's error. */
export type FakeHandlers = Record<string, (args: unknown) => unknown>;

/**
 * Points the client at a fake engine over the bridge: each command is
 * answered by its handler, any other is refused as `bad_request`, and no
 * events arrive.
 */
export function setFakeTransport(handlers: FakeHandlers): void {
  const t: Transport = {
    kind: "bridge",
    async call(cmd, args) {
      const h = handlers[cmd];
      if (!h) throw { code: "bad_request", message: `unexpected ${cmd}`, field: null };
      return h(args);
    },
    listen: () => () => {},
  };
  setTransport(t);
}
