import { setTransport, type CommandName, type Commands, type Transport } from "../api";

/**
 * The fake engine's answer to each command, by name, typed against the
 * command map generated from the Rust API: a handler takes that command's
 * arguments and returns its answer (or a promise of it); a throw is the
 * engine's error.
 */
export type FakeHandlers = {
  [K in CommandName]?: (args: Commands[K]["args"]) => Commands[K]["result"] | Promise<Commands[K]["result"]>;
};

/**
 * Points the client at a fake engine over the bridge: each command is
 * answered by its handler, any other is refused as `bad_request`, and no
 * events arrive.
 */
export function setFakeTransport(handlers: FakeHandlers): void {
  const t: Transport = {
    kind: "bridge",
    async call(cmd, args) {
      const h = handlers[cmd as CommandName] as ((a: unknown) => unknown) | undefined;
      if (!h) throw { code: "bad_request", message: `unexpected ${cmd}`, field: null };
      return h(args);
    },
    listen: () => () => {},
  };
  setTransport(t);
}
