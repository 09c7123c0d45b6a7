import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setTransport, type SettingsSaveArgs, type SettingsValues, type SettingsView, type Transport } from "../api";
import { SettingsPage } from "./SettingsPage";

const TIMEOUTS = { preflight: null, reserve_domain: null, tofu_init: null, tofu_plan: null, tofu_apply: null, dns_commit: null, cloud_init: null, kubeconfig: null, bootstrap: null, console: null };
const VALUES: SettingsValues = {
  mode: null, pdm_url: "", pdm_username: "", pool_domains: [], nameservers: [], gitops_url: "", gitops_branch: "",
  registry_mirror_url: "", registry_mirror_upstream: "", registry_mirror_username: "", registry_mirror_project: "", pull_registry: "", pull_username: "",
  hetzner_endpoint: "", tofu_path: "", provider_mirror: "", timeouts: TIMEOUTS, certificates: null,
};
const VIEW: SettingsView = {
  values: VALUES,
  secrets: { pdm_password: "set", registry_mirror_password: "not_set", pull_password: "not_set" },
  defaults: { ...VALUES, gitops_url: "https://github.com/openova-io/openova", timeouts: { ...TIMEOUTS, tofu_apply: 1800 } },
  config_file: "/tmp/x/settings.json", keyring: "memory", running_mode: "demo", mode_pending: null, keyring_error: null,
};

/** The engine behind the transport: rejects a non-https GitOps URL, records saves. */
function fakeEngine() {
  const saves: SettingsSaveArgs[] = [];
  const t: Transport = {
    kind: "bridge",
    async call(cmd, args) {
      if (cmd === "settings_get") return VIEW;
      if (cmd === "settings_save") {
        const a = args as unknown as SettingsSaveArgs;
        saves.push(a);
        if (!a.values.gitops_url.startsWith("https://")) {
          return { saved: false, errors: [{ field: "gitops_url", message: "must use https://" }], settings: VIEW };
        }
        if (/[^a-z0-9._-]/.test(a.values.registry_mirror_project)) {
          return { saved: false, errors: [{ field: "registry_mirror_project", message: "not a Harbor project name" }], settings: VIEW };
        }
        return { saved: true, errors: [], settings: { ...VIEW, values: a.values } };
      }
      if (cmd === "profile_pick") return { path: null, dialog: false };
      throw { code: "x", message: `unexpected ${cmd}`, field: null };
    },
    listen: () => () => {},
  };
  return { t, saves };
}

describe("SettingsPage", () => {
  it("gives a negative time limit its own sentence, saves nothing, and puts the focus on it", async () => {
    const { t, saves } = fakeEngine();
    setTransport(t);
    render(<SettingsPage />);
    const user = userEvent.setup();
    const apply = await screen.findByLabelText("Create the cloud resources");
    await user.type(apply, "-5");
    await user.click(screen.getByRole("button", { name: "Save" }));
    const err = document.getElementById("settings-timeouts-tofu_apply-error");
    expect(err?.textContent).toBe("A time limit must be more than 0 seconds for “Create the cloud resources”, or leave it empty for the default (1800 s).");
    expect(saves).toHaveLength(0);
    expect(document.activeElement).toBe(apply);
    await user.clear(apply);
    await user.type(apply, "2.5");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(document.getElementById("settings-timeouts-tofu_apply-error")?.textContent).toMatch(/^Type a whole number of seconds/));
    await user.clear(apply);
    await user.type(apply, "2400");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(saves).toHaveLength(1));
    expect(saves[0]!.values.timeouts.tofu_apply).toBe(2400);
  });

  it("tells when a saved mode switched the app at once", async () => {
    const { t } = fakeEngine();
    const switched: SettingsView = { ...VIEW, running_mode: "live" };
    setTransport({ ...t, call: async (cmd, args) => (cmd === "settings_save" ? { saved: true, errors: [], settings: switched } : t.call(cmd, args)) } as Transport);
    let reboots = 0;
    render(<SettingsPage onModeChanged={() => (reboots += 1)} />);
    const user = userEvent.setup();
    await screen.findByLabelText("GitOps repository");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.getByText(/The app is in live mode now: runs create real, billed resources\./)).toBeTruthy());
    expect(reboots).toBe(1);
  });

  it("shows a field error next to its field, and sends a typed secret only as a new value", async () => {
    const { t, saves } = fakeEngine();
    setTransport(t);
    render(<SettingsPage />);
    const user = userEvent.setup();
    const gitops = await screen.findByLabelText("GitOps repository");
    const value = (label: string) => (screen.getByLabelText(label) as HTMLInputElement).value;
    expect(value("PDM password (set)")).toBe("");
    expect(screen.getByLabelText("Create the cloud resources").getAttribute("placeholder")).toBe("1800");

    await user.type(gitops, "http://git.example.org/r");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(document.getElementById("settings-gitops_url-error")?.textContent).toBe("must use https://"));
    expect(saves[0]!.set_secrets).toEqual([]);

    await user.clear(gitops);
    await user.type(gitops, "https://git.example.org/r");
    await user.type(screen.getByLabelText("Registry mirror password (not set)"), "s3cret");
    await user.click(screen.getByRole("button", { name: "Clear" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText("Saved.");
    expect(saves[1]!.set_secrets).toEqual([{ key: "registry_mirror_password", value: "s3cret" }]);
    expect(saves[1]!.clear_secrets).toEqual(["pdm_password"]);
    expect(document.getElementById("settings-gitops_url-error")).toBeNull();
    // After the save the typed secret is gone from the page.
    expect(value("Registry mirror password (not set)")).toBe("");
  });

  it("edits the mirror's proxy project, with its hint and its own error", async () => {
    const { t, saves } = fakeEngine();
    setTransport(t);
    render(<SettingsPage />);
    const user = userEvent.setup();
    const project = await screen.findByLabelText("Proxy project");
    expect(document.getElementById("settings-registry_mirror_project-hint")?.textContent).toContain("<project>/<image>");
    await user.type(screen.getByLabelText("GitOps repository"), "https://git.example.org/r");
    await user.type(screen.getByLabelText("Mirror address"), "https://harbor.example.org");
    await user.type(project, "Proxy DockerHub");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(document.getElementById("settings-registry_mirror_project-error")?.textContent).toBe("not a Harbor project name"));
    expect(project.getAttribute("aria-describedby")).toBe("settings-registry_mirror_project-error");
    expect(document.getElementById("settings-gitops_url-error")).toBeNull();

    await user.clear(project);
    await user.type(project, "proxy-dockerhub");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText("Saved.");
    expect(saves[1]!.values.registry_mirror_project).toBe("proxy-dockerhub");
    expect(saves[1]!.values.registry_mirror_url).toBe("https://harbor.example.org");
  });

  it("without a native dialog asks for the profile path", async () => {
    setTransport(fakeEngine().t);
    render(<SettingsPage />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Import profile…" }));
    await screen.findByText("No file dialog here: type the profile's path, then Preview.");
  });
});
