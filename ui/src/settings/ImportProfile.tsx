import { useState } from "react";
import { call, type ApiError, type ProfilePreview, type SaveOutcome } from "../api";
import { Field, describedBy } from "../wizard/Field";

/**
 * "Import profile…": the native open dialog in the window, a typed path in a
 * browser (the bridge has no dialog); the preview comes first, Apply second.
 */
export function ImportProfile({ onApplied }: { onApplied: (out: SaveOutcome) => void }) {
  const [path, setPath] = useState("");
  const [preview, setPreview] = useState<ProfilePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = async (p: string) => {
    setBusy(true);
    setError(null);
    setPreview(null);
    try {
      setPreview(await call("profile_preview", { path: p }));
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
    }
  };

  const pick = async () => {
    setError(null);
    try {
      const out = await call("profile_pick");
      if (!out.dialog) {
        setNote("No file dialog here: type the profile's path, then Preview.");
      } else if (out.path) {
        setPath(out.path);
        await show(out.path);
      }
    } catch (e) {
      setError((e as ApiError).message);
    }
  };

  const apply = async () => {
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      const out = await call("profile_apply", { path: preview.path });
      if (out.saved) setPreview(null);
      else setError(out.errors.map((e) => `${e.field}: ${e.message}`).join(" "));
      onApplied(out);
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
    }
  };

  const id = "settings-profile-path";
  return (
    <section aria-labelledby="profile-title" className="profile-import">
      <h2 id="profile-title">Franchise profile</h2>
      <Field id={id} label="Profile file" hint={note ?? "A JSON file from your franchise that fills every setting at once."} error={error ?? undefined}>
        <div className="secret-row">
          <input
            id={id}
            type="text"
            spellCheck={false}
            value={path}
            placeholder="/path/to/franchise-profile.json"
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy(id, error ?? undefined, "hint")}
            onChange={(e) => setPath(e.target.value)}
          />
          <button type="button" className="ghost" onClick={() => void pick()} disabled={busy}>
            Import profile…
          </button>
          <button type="button" onClick={() => void show(path)} disabled={busy || !path.trim()}>
            Preview
          </button>
        </div>
      </Field>
      {preview && (
        <div className="profile-preview" aria-label="Profile preview">
          <p>
            <strong>{preview.name || "Unnamed profile"}</strong> (version {preview.version}) would change:
          </p>
          {preview.changes.length === 0 && preview.secrets.length === 0 && <p>Nothing: the settings already match.</p>}
          {preview.changes.length > 0 && (
            <table className="deployments">
              <thead>
                <tr>
                  <th scope="col">Setting</th>
                  <th scope="col">Now</th>
                  <th scope="col">From the profile</th>
                </tr>
              </thead>
              <tbody>
                {preview.changes.map((c) => (
                  <tr key={c.key}>
                    <td>
                      <code>{c.key}</code>
                    </td>
                    <td>{c.from || "(default)"}</td>
                    <td>{c.to || "(default)"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {preview.secrets.length > 0 && (
            <ul>
              {preview.secrets.map((s) => (
                <li key={s.key}>
                  <code>{s.key}</code>: •••••••• goes into the keyring{s.now === "set" ? ", replacing the saved one" : ""}
                </li>
              ))}
            </ul>
          )}
          {preview.errors.length > 0 && (
            <ul className="field-error" role="alert">
              {preview.errors.map((e) => (
                <li key={e.field}>
                  {e.field}: {e.message}
                </li>
              ))}
            </ul>
          )}
          <button type="button" className="primary" onClick={() => void apply()} disabled={busy || preview.errors.length > 0}>
            Apply
          </button>{" "}
          <button type="button" className="ghost" onClick={() => setPreview(null)}>
            Cancel
          </button>
        </div>
      )}
    </section>
  );
}
