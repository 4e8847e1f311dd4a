import { useId, useState } from 'react';
import { loadTheme, saveTheme, THEME_LABELS, THEMES, type Theme } from '../../theme.ts';

/** Theme: the system's, light or dark; applied at once and kept on this device. */
export function ThemeChoice() {
  const [theme, setTheme] = useState<Theme>(loadTheme);
  const [note, setNote] = useState('');
  const name = useId();
  const choose = (t: Theme) => {
    setTheme(t);
    setNote(saveTheme(t) ? '' : 'Applied, but this browser does not let Petrel keep it for next time.');
  };
  return (
    <fieldset className="settings-group">
      <legend>Theme</legend>
      {THEMES.map((t) => (
        <div key={t} className="settings-choice">
          <input type="radio" id={`${name}-${t}`} name={name} value={t} checked={theme === t} onChange={() => choose(t)} />
          <label htmlFor={`${name}-${t}`}>{THEME_LABELS[t]}</label>
        </div>
      ))}
      <p role="status" className="settings-saved">
        {note}
      </p>
    </fieldset>
  );
}
