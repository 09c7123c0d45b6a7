import { describedBy, Field } from "../Field";
import type { StepProps } from "../types";

export function OrganisationStep({ answers, data, update, errorFor, touch }: StepProps) {
  const org = answers.organisation;
  const set = (patch: Partial<typeof org>) => update((a) => ({ ...a, organisation: { ...a.organisation, ...patch } }));
  const nameErr = errorFor("organisation.name");
  const hqErr = errorFor("organisation.headquarters");
  const compErr = errorFor("organisation.compliance");
  return (
    <div className="grid two">
      <Field id="organisation-name" label="Organisation name" error={nameErr} hint="2 to 100 characters.">
        <input
          id="organisation-name"
          value={org.name}
          placeholder="e.g. Omantel"
          autoComplete="organization"
          aria-required="true"
          aria-invalid={!!nameErr}
          aria-describedby={describedBy("organisation-name", nameErr, "x")}
          onChange={(e) => set({ name: e.target.value })}
          onBlur={() => touch("organisation.name")}
        />
      </Field>
      <Field id="organisation-headquarters" label="Headquarters (optional)" error={hqErr}>
        <input
          id="organisation-headquarters"
          value={org.headquarters}
          placeholder="City, country"
          aria-invalid={!!hqErr}
          aria-describedby={describedBy("organisation-headquarters", hqErr)}
          onChange={(e) => set({ headquarters: e.target.value })}
          onBlur={() => touch("organisation.headquarters")}
        />
      </Field>
      <Field id="organisation-industry" label="Industry (optional)" error={errorFor("organisation.industry")}>
        <select id="organisation-industry" value={org.industry} onChange={(e) => set({ industry: e.target.value })}>
          <option value="">Not specified</option>
          {data.options.industries.map((i) => (
            <option key={i}>{i}</option>
          ))}
        </select>
      </Field>
      <Field id="organisation-size" label="Organisation size (optional)" error={errorFor("organisation.size")}>
        <select id="organisation-size" value={org.size} onChange={(e) => set({ size: e.target.value })}>
          <option value="">Not specified</option>
          {data.options.org_sizes.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </Field>
      <fieldset className="chips span-2" aria-describedby={compErr ? "organisation-compliance-error" : undefined}>
        <legend>Compliance frameworks (optional)</legend>
        {data.options.compliance_frameworks.map((f) => {
          const on = org.compliance.includes(f);
          const id = `compliance-${f.replace(/\W+/g, "-").toLowerCase()}`;
          return (
            <span key={f} className={`chip${on ? " on" : ""}`}>
              <input
                id={id}
                type="checkbox"
                checked={on}
                onChange={() => set({ compliance: on ? org.compliance.filter((x) => x !== f) : [...org.compliance, f] })}
              />
              <label htmlFor={id}>{f}</label>
            </span>
          );
        })}
        {compErr && (
          <p className="field-error" id="organisation-compliance-error" role="alert">
            {compErr}
          </p>
        )}
      </fieldset>
    </div>
  );
}
