import { useCallback } from 'react';
import { useI18n } from '../../../shell/i18n';
import { roleLabelCode } from '../api';

/** The roles as labelled checkboxes (DIGIT's ACCESSCONTROL_ROLES_ROLES_* labels), in one group. */
export function RoleChoices({ codes, chosen, onChange, legend, errors = [] }: { codes: readonly string[]; chosen: ReadonlySet<string>; onChange(next: Set<string>): void; legend: string; errors?: readonly string[] }) {
  const { t } = useI18n();
  const label = (code: string) => {
    const text = t(roleLabelCode(code));
    return text === roleLabelCode(code) ? code : text;
  };
  const sorted = [...codes].sort((a, b) => label(a).localeCompare(label(b)));
  return (
    <fieldset className="admin-roles" aria-describedby={errors.length > 0 ? 'admin-roles-error' : undefined}>
      <legend>{legend}</legend>
      {sorted.map((code) => (
        <label key={code}>
          <input
            type="checkbox"
            name="roles"
            value={code}
            checked={chosen.has(code)}
            onChange={(e) => {
              const next = new Set(chosen);
              if (e.target.checked) next.add(code);
              else next.delete(code);
              onChange(next);
            }}
          />
          {label(code)}
        </label>
      ))}
      {errors.length > 0 && (
        <div className="field-error" id="admin-roles-error" role="alert">
          {errors.join(' ')}
        </div>
      )}
    </fieldset>
  );
}

export function useRoleLabel(): (code: string) => string {
  const { t } = useI18n();
  return useCallback(
    (code: string) => {
      const text = t(roleLabelCode(code));
      return text === roleLabelCode(code) ? code : text;
    },
    [t],
  );
}
