import type { ContactView } from '../../../core/messenger/messenger-api.ts';

export interface MemberPickerProps {
  readonly legend: string;
  readonly candidates: readonly ContactView[];
  readonly chosen: ReadonlySet<string>;
  readonly onChange: (chosen: ReadonlySet<string>) => void;
  readonly name: (c: ContactView) => string;
}

/** One checkbox per contact, named by the contact's name, in a fieldset. */
export function MemberPicker({ legend, candidates, chosen, onChange, name }: MemberPickerProps) {
  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    onChange(next);
  };
  return (
    <fieldset className="member-picker">
      <legend>
        {legend} <span className="member-picker-count">({chosen.size} chosen)</span>
      </legend>
      <ul>
        {candidates.map((c) => (
          <li key={c.id}>
            <label>
              <input type="checkbox" checked={chosen.has(c.id)} onChange={(e) => toggle(c.id, e.currentTarget.checked)} />
              <bdi dir="auto">{name(c)}</bdi>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
