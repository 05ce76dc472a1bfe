type Translate = (code: string) => string;

/** The first of DIGIT's label codes that has a message, else the raw code. */
function firstLabel(t: Translate, codes: string[], raw: string): string {
  for (const code of codes) if (t(code) !== code) return t(code);
  return raw;
}

/** A state's label: the workflow's own (`WF_PGR_RESOLVED`), else the common one (`CS_COMMON_RESOLVED`). */
export const stateLabel = (t: Translate, businessService: string, state: string | null): string =>
  state === null ? t('ADMIN_WF_START') : firstLabel(t, [`WF_${businessService.toUpperCase()}_${state}`, `CS_COMMON_${state}`], state);

export const actionLabel = (t: Translate, businessService: string, action: string): string =>
  firstLabel(t, [`WF_${businessService.toUpperCase()}_ACTION_${action}`, `CS_ACTION_${action}`], action);
