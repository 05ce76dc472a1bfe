import { useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'wouter';
import { useI18n } from '../../../shell/i18n';
import { useSession } from '../../../shell/session';
import { ErrorNotice, Loading, Page } from '../../../shell/ui';
import { businessServices, type BusinessService } from '../api';
import { useRoleLabel } from '../users/RoleChoices';
import { Diagram, type DiagramEdge, type DiagramNode } from './Diagram';
import { actionLabel, stateLabel } from './labels';
import '../admin.css';

type Row = { from: string; action: string; to: string; roles: string };

/** The workflows (DIGIT's business services) of the state, one shown as a state diagram and a table. */
export function Workflows() {
  const { businessService } = useParams<{ businessService?: string }>();
  const { t } = useI18n();
  const roleLabel = useRoleLabel();
  const { stateTenant } = useSession();
  const [services, setServices] = useState<BusinessService[]>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    businessServices(stateTenant).then(setServices).catch(setError);
  }, [stateTenant]);

  const chosen = services?.find((s) => s.businessService === businessService) ?? (businessService ? undefined : services?.[0]);
  const graph = useMemo(() => {
    if (!chosen) return undefined;
    const byUuid = new Map(chosen.states.map((s) => [s.uuid, s]));
    // Search answers nextState as a uuid; a definition being written may still name the state.
    const target = (next: string) => byUuid.get(next) ?? chosen.states.find((s) => s.state === next);
    const label = (state: string | null) => stateLabel(t, chosen.businessService, state);
    const nodes: DiagramNode[] = chosen.states.map((s) => ({ id: s.uuid, label: label(s.state), kind: s.isStartState ? 'start' : s.isTerminateState ? 'end' : 'state' }));
    const edges: DiagramEdge[] = [];
    const rows: Row[] = [];
    for (const s of chosen.states) {
      for (const a of s.actions ?? []) {
        const next = target(a.nextState);
        if (!next) continue;
        const action = actionLabel(t, chosen.businessService, a.action);
        edges.push({ from: s.uuid, to: next.uuid, label: action, key: a.action });
        rows.push({ from: label(s.state), action, to: label(next.state), roles: a.roles.map(roleLabel).join(', ') });
      }
    }
    return { nodes, edges, rows };
  }, [chosen, t, roleLabel]);

  return (
    <Page titleCode="ADMIN_WF_TITLE">
      <ErrorNotice error={error} />
      {!services && !error && <Loading />}
      {services && (
        <nav aria-label={t('ADMIN_WF_LIST')}>
          <ul className="row list">
            {services.map((s) => (
              <li key={s.uuid}>
                <Link href={`/admin/workflows/${encodeURIComponent(s.businessService)}`} aria-current={s === chosen ? 'page' : undefined}>
                  {s.businessService}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {services && !chosen && <p role="status">{t('ADMIN_WF_NONE')}</p>}
      {chosen && graph && (
        <>
          <h2>{t('ADMIN_WF_DIAGRAM', { name: chosen.businessService })}</h2>
          <p className="hint">{t('ADMIN_WF_SUMMARY', { business: chosen.business, states: chosen.states.length, actions: graph.rows.length })}</p>
          <Diagram nodes={graph.nodes} edges={graph.edges} title={t('ADMIN_WF_DIAGRAM', { name: chosen.businessService })} description={t('ADMIN_WF_DIAGRAM_DESC')} />
          <h2 id="admin-wf-table">{t('ADMIN_WF_TRANSITIONS')}</h2>
          <div className="table-scroll">
            <table aria-labelledby="admin-wf-table">
              <thead>
                <tr>
                  <th scope="col">{t('ADMIN_WF_STATE')}</th>
                  <th scope="col">{t('ADMIN_WF_ACTION')}</th>
                  <th scope="col">{t('ADMIN_WF_NEXT_STATE')}</th>
                  <th scope="col">{t('ADMIN_WF_ROLES')}</th>
                </tr>
              </thead>
              <tbody>
                {graph.rows.map((r, i) => (
                  <tr key={i}>
                    <td>{r.from}</td>
                    <td>{r.action}</td>
                    <td>{r.to}</td>
                    <td>{r.roles}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Page>
  );
}
