import type { ChartConfiguration } from 'chart.js';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { serviceDefCode, useI18n } from '../../shell/i18n';
import { useSession } from '../../shell/session';
import { ErrorNotice, Field, Loading, Page, useDraft } from '../../shell/ui';
import { cityTenants, localities, localityLabel, tenantLabel } from '../../shell/places';
import { statusCode } from '../complaints/api';
import { complaintTypes, summary, type Summary } from './api';
import { ChartCanvas } from './Chart';
import { DASHBOARD_ROLES } from './roles';
import './dashboards.css';

const DAY_MS = 86_400_000;
const PALETTE = ['#1f6f8b', '#e07a1f', '#3c9d5d', '#b03a48', '#7a5bb0', '#c9a227', '#4f8fd6', '#8c6d46', '#d45fa0', '#5e7d7e'];

type Filters = { tenantId: string; from: string; to: string; serviceCode: string; locality: string };

/** yyyy-mm-dd of a time in the browser's time zone (what a date input shows). */
function isoDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
/** The first and the last millisecond of a yyyy-mm-dd day in the browser's time zone. */
const dayStart = (day: string) => new Date(`${day}T00:00:00`).getTime();
const dayEnd = (day: string) => new Date(`${day}T23:59:59.999`).getTime();

/** A chart with its title and, for screen readers and anyone who prefers numbers, the same figures as a table. */
function ChartFigure({
  title,
  config,
  height,
  columns,
  rows,
}: {
  title: string;
  config: ChartConfiguration;
  height: number;
  columns: string[];
  rows: ReactNode[][];
}) {
  const { t } = useI18n();
  return (
    <figure className="card">
      <figcaption>{title}</figcaption>
      <ChartCanvas config={config} label={t('DASH_CHART_LABEL', { title })} height={height} />
      <details>
        <summary>
          {t('DASH_SHOW_TABLE')}
          <span className="visually-hidden"> {title}</span>
        </summary>
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={i}>
                  {row.map((cell, j) =>
                    j === 0 ? (
                      <th key={j} scope="row">
                        {cell}
                      </th>
                    ) : (
                      <td key={j}>{cell}</td>
                    ),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** A bar's name cut to what fits beside the bars on a phone. */
const shorten = (label: string) => (label.length > 20 ? `${label.slice(0, 19)}…` : label);

const barHeight = (bars: number) => Math.max(160, bars * 32 + 48);

/** Complaint dashboards: figures and charts of the complaints filed in a period, with filters. */
export function Dashboards() {
  const { t, locale } = useI18n();
  const { session, stateTenant } = useSession();
  const user = session?.user;
  const today = Date.now();
  const [filters, setFilters] = useDraft<Filters>('dashboards.filters', {
    tenantId: '',
    from: isoDay(today - 29 * DAY_MS),
    to: isoDay(today),
    serviceCode: '',
    locality: '',
  });
  const [cityList, setCityList] = useState<string[]>();
  const [types, setTypes] = useState<string[]>([]);
  const [places, setPlaces] = useState<string[]>([]);
  const [data, setData] = useState<Summary>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const latest = useRef(0);

  const number = useMemo(() => new Intl.NumberFormat(locale.replace('_', '-'), { maximumFractionDigits: 1 }), [locale]);
  const set = (patch: Partial<Filters>) => setFilters((previous) => ({ ...previous, ...patch }));

  // The cities the person's dashboard roles cover.
  useEffect(() => {
    const grants = (user?.roles ?? []).filter((r) => (DASHBOARD_ROLES as readonly string[]).includes(r.code)).map((r) => r.tenantId);
    cityTenants(stateTenant)
      .then((all) => setCityList(all.filter((c) => grants.some((g) => c === g || c.startsWith(`${g}.`)))))
      .catch(setError);
    complaintTypes(stateTenant).then(setTypes).catch(setError);
  }, [stateTenant, user]);

  const tenantId = cityList?.includes(filters.tenantId)
    ? filters.tenantId
    : ((cityList?.includes(user?.tenantId ?? '') ? user!.tenantId : cityList?.[0]) ?? '');

  useEffect(() => {
    if (!tenantId) return;
    void localities(tenantId).then(setPlaces);
  }, [tenantId]);

  const rangeError = filters.from && filters.to && filters.from > filters.to ? t('DASH_ERR_RANGE') : undefined;

  useEffect(() => {
    if (!tenantId || !filters.from || !filters.to || rangeError) return;
    const call = ++latest.current;
    setBusy(true);
    summary({
      tenantId,
      fromDate: dayStart(filters.from),
      toDate: dayEnd(filters.to),
      ...(filters.serviceCode ? { serviceCode: filters.serviceCode } : {}),
      ...(filters.locality ? { locality: filters.locality } : {}),
    })
      .then((answer) => {
        if (call !== latest.current) return;
        setData(answer);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (call === latest.current) setError(e);
      })
      .finally(() => {
        if (call === latest.current) setBusy(false);
      });
  }, [tenantId, filters.from, filters.to, filters.serviceCode, filters.locality, rangeError]);

  const typeName = (code: string) => {
    const text = t(serviceDefCode(code));
    return text === serviceDefCode(code) ? code : text;
  };
  const placeName = (code: string) => {
    const text = t(localityLabel(tenantId, code));
    return text === localityLabel(tenantId, code) ? code : text;
  };
  const statusName = (code: string) => t(statusCode(code));
  const hours = (value: number | null | undefined) =>
    value === null || value === undefined ? t('DASH_NO_RESOLUTION') : t('DASH_HOURS', { hours: number.format(value) });
  const percent = (rate: number | null) => (rate === null ? '–' : t('DASH_PERCENT', { rate: number.format(rate * 100) }));

  const sortedTypes = useMemo(() => [...types].sort((a, b) => typeName(a).localeCompare(typeName(b))), [types, t]);
  const placeOptions = useMemo(() => {
    const codes = new Set([...places, ...(data?.byLocality.map((l) => l.locality) ?? []), ...(filters.locality ? [filters.locality] : [])]);
    return [...codes].sort((a, b) => placeName(a).localeCompare(placeName(b)));
  }, [places, data, filters.locality, t, tenantId]);

  const charts = useMemo(() => {
    if (!data) return undefined;
    const bar = (labels: string[], values: number[]): ChartConfiguration => ({
      type: 'bar',
      data: { labels, datasets: [{ label: t('DASH_COL_COUNT'), data: values, backgroundColor: PALETTE[0] }] },
      options: {
        indexAxis: 'y',
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          // Long names are shortened on the axis of a narrow screen; the tooltip and the table give them whole.
          y: { ticks: { callback: (_value, index) => shorten(labels[index] ?? '') } },
        },
      },
    });
    return {
      status: {
        type: 'doughnut',
        data: {
          labels: data.byStatus.map((s) => statusName(s.status)),
          datasets: [
            { data: data.byStatus.map((s) => s.count), backgroundColor: data.byStatus.map((_, i) => PALETTE[i % PALETTE.length]!) },
          ],
        },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } },
      } satisfies ChartConfiguration<'doughnut'> as ChartConfiguration,
      type: bar(
        data.byType.map((r) => typeName(r.serviceCode)),
        data.byType.map((r) => r.count),
      ),
      locality: bar(
        data.byLocality.map((r) => placeName(r.locality)),
        data.byLocality.map((r) => r.count),
      ),
      sla: {
        type: 'line',
        data: {
          labels: data.slaCompliance.map((w) => w.period),
          datasets: [
            {
              label: t('DASH_SLA_AXIS'),
              data: data.slaCompliance.map((w) => (w.rate === null ? null : Math.round(w.rate * 1000) / 10)),
              borderColor: PALETTE[2],
              backgroundColor: PALETTE[2],
              spanGaps: true,
            },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { min: 0, max: 100, title: { display: true, text: t('DASH_SLA_AXIS') } } },
        },
      } satisfies ChartConfiguration<'line'> as ChartConfiguration,
    };
  }, [data, t, tenantId]);

  const figures: Array<[string, string, boolean?]> = data
    ? [
        [t('DASH_TOTAL'), number.format(data.total)],
        [t('DASH_OPEN'), number.format(data.open)],
        [t('DASH_RESOLVED'), number.format(data.resolved)],
        [t('DASH_CLOSED'), number.format(data.closed)],
        [t('DASH_AVG_RESOLUTION'), hours(data.averageResolutionHours), data.averageResolutionHours === null],
        [t('DASH_MEDIAN_RESOLUTION'), hours(data.medianResolutionHours), data.medianResolutionHours == null],
      ]
    : [];

  return (
    <Page titleCode="DASH_TITLE">
      <form className="dash-filters" aria-label={t('DASH_FILTERS')} onSubmit={(e) => e.preventDefault()}>
        <Field label={t('DASH_CITY')}>
          {(props) => (
            <select {...props} value={tenantId} onChange={(e) => set({ tenantId: e.target.value, locality: '' })}>
              {(cityList ?? []).map((c) => (
                <option key={c} value={c}>
                  {t(tenantLabel(c)) === tenantLabel(c) ? c : t(tenantLabel(c))}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('DASH_FROM')} errors={rangeError ? [rangeError] : []}>
          {(props) => (
            <input
              {...props}
              type="date"
              value={filters.from}
              max={filters.to || undefined}
              onChange={(e) => set({ from: e.target.value })}
              required
            />
          )}
        </Field>
        <Field label={t('DASH_TO')}>
          {(props) => (
            <input
              {...props}
              type="date"
              value={filters.to}
              min={filters.from || undefined}
              onChange={(e) => set({ to: e.target.value })}
              required
            />
          )}
        </Field>
        <Field label={t('DASH_TYPE')}>
          {(props) => (
            <select {...props} value={filters.serviceCode} onChange={(e) => set({ serviceCode: e.target.value })}>
              <option value="">{t('DASH_ALL')}</option>
              {sortedTypes.map((code) => (
                <option key={code} value={code}>
                  {typeName(code)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('DASH_LOCALITY')}>
          {(props) => (
            <select {...props} value={filters.locality} onChange={(e) => set({ locality: e.target.value })}>
              <option value="">{t('DASH_ALL')}</option>
              {placeOptions.map((code) => (
                <option key={code} value={code}>
                  {placeName(code)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>

      <ErrorNotice error={error} />
      {cityList && cityList.length === 0 && <p className="notice">{t('DASH_NO_CITY')}</p>}
      {!data && !error && (cityList === undefined || cityList.length > 0) && <Loading />}

      {data && charts && (
        <div className={busy ? 'dash-busy' : undefined} aria-busy={busy}>
          <h2 className="visually-hidden">{t('DASH_FIGURES')}</h2>
          <dl className="dash-figures">
            {figures.map(([label, value, none]) => (
              <div key={label} className="card">
                <dt>{label}</dt>
                <dd className={none ? 'dash-none' : undefined}>{value}</dd>
              </div>
            ))}
          </dl>
          {data.total === 0 && <p className="notice">{t('DASH_NO_DATA')}</p>}
          <div className="dash-charts">
            <ChartFigure
              title={t('DASH_BY_STATUS')}
              config={charts.status}
              height={260}
              columns={[t('DASH_COL_STATUS'), t('DASH_COL_COUNT')]}
              rows={data.byStatus.map((s) => [statusName(s.status), number.format(s.count)])}
            />
            <ChartFigure
              title={t('DASH_BY_TYPE')}
              config={charts.type}
              height={barHeight(data.byType.length)}
              columns={[t('DASH_COL_TYPE'), t('DASH_COL_COUNT')]}
              rows={data.byType.map((r) => [typeName(r.serviceCode), number.format(r.count)])}
            />
            <ChartFigure
              title={t('DASH_BY_LOCALITY')}
              config={charts.locality}
              height={barHeight(data.byLocality.length)}
              columns={[t('DASH_COL_LOCALITY'), t('DASH_COL_COUNT')]}
              rows={data.byLocality.map((r) => [placeName(r.locality), number.format(r.count)])}
            />
            <ChartFigure
              title={t('DASH_SLA')}
              config={charts.sla}
              height={240}
              columns={[t('DASH_COL_WEEK'), t('DASH_COL_TOTAL'), t('DASH_COL_WITHIN'), t('DASH_COL_RATE')]}
              rows={data.slaCompliance.map((w) => [w.period, number.format(w.total), number.format(w.withinSla), percent(w.rate)])}
            />
          </div>
        </div>
      )}
    </Page>
  );
}
