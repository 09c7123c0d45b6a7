import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { AgentCheck, WizardAnswers } from "../../api";
import { setFakeTransport } from "../../test/fakeTransport";
import type { StepProps } from "../types";
import { CredentialsStep } from "./CredentialsStep";

const ANSWERS: WizardAnswers = {
  organisation: { name: "Omantel", headquarters: "", industry: "", size: "", compliance: [] },
  topology: "SOLO",
  ha: false,
  regions: [{ location: "fsn1", control_plane_type: "cpx42", worker_count: 0, worker_type: "" }],
  credentials: { token_validated: true, ssh_key_mode: "generate", ssh_public_key: "", ssh_fingerprint: "", ssh_allowed_cidrs: [], cluster_token: "same", cluster_token_validated: false },
  components: [],
  domain: { mode: "pool", pool_domain: "omani.works", subdomain: "acme", byo_domain: "", registrar: null, registrar_validated: false, admin_email: "", availability: null },
};

/** The step in a stateful harness; every answers value it produced is recorded. */
function Harness(props: { seen: WizardAnswers[]; initial?: WizardAnswers; reloadOffers?: () => void; demo?: boolean }) {
  const [answers, setAnswers] = useState(props.initial ?? ANSWERS);
  const update: StepProps["update"] = (f) =>
    setAnswers((a) => {
      const n = f(a);
      props.seen.push(n);
      return n;
    });
  return (
    <CredentialsStep
      answers={answers}
      data={{} as StepProps["data"]}
      update={update}
      change={async () => null}
      errorFor={() => undefined}
      errorNow={() => undefined}
      touch={() => {}}
      goTo={() => {}}
      announce={() => {}}
      reloadOffers={props.reloadOffers ?? (() => {})}
      demo={props.demo}
      explain={() => {}}
    />
  );
}

describe("CredentialsStep", () => {
  it("checks the token on Enter, counts its characters in live mode, and offers the demo token openly in demo mode", async () => {
    const checked: string[] = [];
    setFakeTransport({
      token_check: ({ token }) => {
        checked.push(token);
        return token.length === 64
          ? { scope: "read_write", message: "The token is valid and may create resources in its Hetzner project." }
          : { scope: "invalid", message: `A Hetzner API token is 64 characters long; this one has ${token.length}.` };
      },
      server_offers: () => ({}) as never,
    });
    const user = userEvent.setup();
    const seen: WizardAnswers[] = [];
    const { unmount } = render(<Harness seen={seen} initial={{ ...ANSWERS, credentials: { ...ANSWERS.credentials, token_validated: false } }} demo={false} />);
    expect(screen.queryByRole("button", { name: "Use the demo token" })).toBeNull();
    const field = screen.getByLabelText("API token (read & write)");
    await user.type(field, "abc");
    expect(screen.getByTestId("token-length").textContent).toBe("3 of 64 characters");
    await user.keyboard("{Enter}");
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("this one has 3"));
    expect(checked).toEqual(["abc"]);
    unmount();
    render(<Harness seen={seen} initial={{ ...ANSWERS, credentials: { ...ANSWERS.credentials, token_validated: false } }} demo />);
    await user.click(screen.getByRole("button", { name: "Use the demo token" }));
    await waitFor(() => expect(checked.at(-1)).toBe("demo-token"));
    expect(screen.queryByTestId("token-length")).toBeNull();
  });

  it("never puts a refused paste (a private key) into the answers, but says why next to the field", async () => {
    setFakeTransport({
      ssh_parse: () => {
        throw { code: "private_key", message: "This is a private key; paste the public half (.pub).", field: null };
      },
    });
    const seen: WizardAnswers[] = [];
    const user = userEvent.setup();
    render(<Harness seen={seen} initial={{ ...ANSWERS, credentials: { ...ANSWERS.credentials, ssh_key_mode: "paste" } }} />);
    const box = screen.getByLabelText("Public key");
    await user.click(box);
    await user.paste("-----BEGIN OPENSSH PRIVATE KEY-----");
    await waitFor(() => expect(screen.getByText("This is a private key; paste the public half (.pub).")).toBeTruthy());
    expect((box as HTMLTextAreaElement).value).toBe("-----BEGIN OPENSSH PRIVATE KEY-----");
    expect(seen.length).toBeGreaterThan(0);
    for (const a of seen) expect(JSON.stringify(a)).not.toContain("PRIVATE KEY");
    expect(seen.at(-1)?.credentials.ssh_public_key).toBe("");
  });

  it("says why a Generate failed, next to the key", async () => {
    setFakeTransport({
      ssh_generate: () => {
        throw { code: "keyring_unavailable", message: "The OS keyring is locked; unlock it and try again.", field: null };
      },
    });
    const seen: WizardAnswers[] = [];
    const user = userEvent.setup();
    render(<Harness seen={seen} />);
    await user.click(screen.getByRole("button", { name: "Generate key" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("The OS keyring is locked; unlock it and try again.");
    expect(seen.every((a) => a.credentials.ssh_public_key === "")).toBe(true);
  });

  it("keeps a parsed public key in the answers", async () => {
    setFakeTransport({
      ssh_parse: () => ({ openssh: "ssh-ed25519 AAAAkey you@laptop", fingerprint: "SHA256:abc", algorithm: "ed25519", bits: 256, comment: "you@laptop" }),
      ssh_agent_check: () => ({ state: "no_agent", socket: null, keys: null, message: "No SSH agent is running for this app." }),
    });
    const seen: WizardAnswers[] = [];
    const user = userEvent.setup();
    render(<Harness seen={seen} initial={{ ...ANSWERS, credentials: { ...ANSWERS.credentials, ssh_key_mode: "paste" } }} />);
    await user.click(screen.getByLabelText("Public key"));
    await user.paste("ssh-ed25519 AAAAkey you@laptop");
    await waitFor(() => expect(seen.at(-1)?.credentials.ssh_public_key).toBe("ssh-ed25519 AAAAkey you@laptop"));
    expect(screen.getByTestId("ssh-fingerprint").textContent).toBe("SHA256:abc");
  });

  it("says whether the SSH agent holds a pasted key, and checks again on request", async () => {
    const answers: AgentCheck[] = [
      { state: "not_held", socket: "/run/agent.sock", keys: 1, message: "Your SSH agent (/run/agent.sock) does not hold this key (1 other key in it)." },
      { state: "held", socket: "/run/agent.sock", keys: 2, message: "Your SSH agent (/run/agent.sock) holds this key." },
    ];
    const asked: unknown[] = [];
    setFakeTransport({
      ssh_parse: () => ({ openssh: "ssh-ed25519 AAAAkey you@laptop", fingerprint: "SHA256:abc", algorithm: "ed25519", bits: 256, comment: "you@laptop" }),
      ssh_agent_check: (a) => {
        asked.push(a);
        return answers[Math.min(asked.length - 1, 1)]!;
      },
    });
    const user = userEvent.setup();
    render(<Harness seen={[]} initial={{ ...ANSWERS, credentials: { ...ANSWERS.credentials, ssh_key_mode: "paste" } }} />);
    await user.click(screen.getByLabelText("Public key"));
    await user.paste("ssh-ed25519 AAAAkey you@laptop");
    const status = await screen.findByTestId("agent-status");
    await waitFor(() => expect(status.dataset.state).toBe("not_held"));
    expect(status.textContent).toContain("does not hold this key");
    expect(asked[0]).toEqual({ text: "ssh-ed25519 AAAAkey you@laptop" });
    await user.click(screen.getByRole("button", { name: "Check the agent again" }));
    await waitFor(() => expect(screen.getByTestId("agent-status").dataset.state).toBe("held"));
    expect(screen.getByTestId("agent-status").textContent).toContain("✓ Your SSH agent (/run/agent.sock) holds this key.");
    expect(screen.queryByRole("button", { name: "Check the agent again" })).toBeNull();
  });

  it("lets the cluster keep its own token, checked like the first, and says when it is refused", async () => {
    const checked: unknown[] = [];
    setFakeTransport({
      cluster_token_check: (a) => {
        checked.push(a);
        return (a as { token: string }).token === "good"
          ? { scope: "read_write", message: "Read & write token accepted." }
          : { scope: "read_only", message: "This token is read-only; the cloud controller needs read & write." };
      },
    });
    const seen: WizardAnswers[] = [];
    const user = userEvent.setup();
    render(<Harness seen={seen} />);
    await user.click(screen.getByRole("radio", { name: /Its own token \(recommended\)/ }));
    expect(seen.at(-1)?.credentials.cluster_token).toBe("separate");
    await user.type(screen.getByLabelText("The cluster's token (read & write)"), "weak{Enter}");
    await waitFor(() => expect(screen.getByText("This token is read-only; the cloud controller needs read & write.")).toBeTruthy());
    expect(seen.at(-1)?.credentials.cluster_token_validated).toBe(false);
    await user.clear(screen.getByLabelText("The cluster's token (read & write)"));
    await user.type(screen.getByLabelText("The cluster's token (read & write)"), "good");
    await user.click(screen.getByRole("button", { name: "Validate the cluster's token" }));
    await waitFor(() => expect(seen.at(-1)?.credentials.cluster_token_validated).toBe(true));
    expect(screen.getByText("Read & write token accepted.")).toBeTruthy();
    // The token itself never reaches the answers (and so the draft on disk).
    expect(JSON.stringify(seen)).not.toContain("good");
    expect(checked).toEqual([{ token: "weak" }, { token: "good" }]);
    await user.click(screen.getByRole("radio", { name: /The provisioning token/ }));
    expect(seen.at(-1)?.credentials).toMatchObject({ cluster_token: "same", cluster_token_validated: false });
  });
});
