import { describedBy, Field } from "../Field";
import type { StepProps } from "../types";

const INDUSTRIES = [
  "Financial Services", "Banking", "Insurance", "Healthcare", "Telecommunications",
  "Energy & Utilities", "Retail", "Manufacturing", "Government", "Technology", "Other",
];
const SIZES = ["Under 100", "100–500", "500–2,000", "2,000–10,000", "10,000+"];
const FRAMEWORKS = ["PCI DSS", "ISO 27001", "SOC 2", "GDPR", "HIPAA", "DORA", "NIS2", "FedRAMP"];

export function OrganisationStep({ answers, update, errorFor, touch }: StepProps) {
  const org = answers.organisation;
  const set = (patch: Partial<typeof org>) => update((a) => ({ ...a, organisation: { ...a.organisation, ...patch } }));
  const nameErr = errorFor("organisation.name");
  const hqErr = errorFor("organisation.headquarters");
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
      <Field id="organisation-industry" label="Industry (optional)">
        <select id="organisation-industry" value={org.industry} onChange={(e) => set({ industry: e.target.value })}>
          <option value="">Not specified</option>
          {INDUSTRIES.map((i) => (
            <option key={i}>{i}</option>
          ))}
        </select>
      </Field>
      <Field id="organisation-size" label="Organisation size (optional)">
        <select id="organisation-size" value={org.size} onChange={(e) => set({ size: e.target.value })}>
          <option value="">Not specified</option>
          {SIZES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </Field>
      <fieldset className="chips span-2">
        <legend>Compliance frameworks (optional)</legend>
        {FRAMEWORKS.map((f) => {
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
      </fieldset>
    </div>
  );
}
