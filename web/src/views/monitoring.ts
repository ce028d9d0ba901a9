// Metrics and alarms: the alarms with their state and history, and a line chart per
// metric filter of its metric over time (the alarm thresholds on it drawn), over the
// page's time range (default: the range of the data the filters read).

import type { App, Page } from '../app';
import type { Alarm, AlarmHistoryItem, Dataset, Datapoint, MetricFilter, MetricSeries, Range, Result } from '../api';
import { ChartView, type Threshold } from '../chart';
import { h, replace } from '../dom';
import { formatCount, formatTime } from '../format';
import { TimePicker } from '../pickers';

const comparisons: Record<string, string> = {
  GreaterThanOrEqualToThreshold: '≥',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
};

const periods = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400];
const MAX_POINTS = 300;

// periodLabel prints 300 as "5 min".
export function periodLabel(s: number): string {
  if (s % 86400 === 0) return `${s / 86400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

// condition describes an alarm's rule: "Sum ≥ 10 in 1 of 1 periods of 5 min".
export function condition(a: Alarm): string {
  const m = a.datapointsToAlarm || a.evaluationPeriods;
  return `${a.statistic} ${comparisons[a.comparisonOperator] ?? a.comparisonOperator} ${formatCount(a.threshold)} in ${m} of ${a.evaluationPeriods} × ${periodLabel(a.period)}`;
}

function sinceSeconds(since: string): number | null {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(since);
  if (!m) return null;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
}

// absolute turns the page's range into start and end (ms): a relative range ends now;
// all time is the range of the datasets the filters read.
function absolute(r: Range, datasets: Dataset[], names: string[]): { start: number; end: number } | null {
  if (r.start || r.end) {
    const end = r.end ? Date.parse(r.end) : Date.now();
    return { start: r.start ? Date.parse(r.start) : end - 86400e3, end };
  }
  if (r.since) {
    const s = sinceSeconds(r.since);
    if (s) return { start: Date.now() - s * 1000, end: Date.now() };
  }
  const ds = datasets.filter((d) => (!names.length || names.includes(d.name)) && d.minTime && d.maxTime);
  if (!ds.length) return null;
  return { start: Math.min(...ds.map((d) => Date.parse(d.minTime!))), end: Math.max(...ds.map((d) => Date.parse(d.maxTime!))) };
}

// pickPeriod takes the alarm's period when the chart can show it, else the
// smallest standard period that keeps the chart under MAX_POINTS points.
function pickPeriod(spanS: number, alarmPeriod?: number): number {
  if (alarmPeriod && spanS / alarmPeriod <= MAX_POINTS * 2) return alarmPeriod;
  return periods.find((p) => spanS / p <= MAX_POINTS) ?? 86400;
}

// series turns datapoints into a result the chart draws, periods without samples as 0.
function series(dps: Datapoint[], start: number, end: number, period: number, name: string): Result {
  const byT = new Map(dps.map((d) => [Date.parse(d.timestamp), d.value ?? d.sum]));
  const p = period * 1000;
  const rows: [string, number][] = [];
  for (let t = Math.floor(start / p) * p; t <= end; t += p) rows.push([new Date(t).toISOString().replace('.000Z', 'Z'), byT.get(t) ?? 0]);
  return {
    columns: [{ name: 'time', type: 'time' }, { name, type: 'number' }],
    rows,
    shape: { timeColumn: 'time', keys: ['time'], values: [name], addressKeys: [] },
  };
}

function stateBadge(state: string): HTMLElement {
  const cls = state === 'ALARM' ? 'alarm' : state === 'OK' ? 'ok' : 'insufficient';
  return h('span', { class: `state ${cls}`, 'data-state': state }, state === 'INSUFFICIENT_DATA' ? 'INSUFFICIENT DATA' : state);
}

export function monitoringPage(app: App): Page {
  let range: Range = {};
  let utc = true;
  let disposed = false;
  const charts: ChartView[] = [];
  const open = new Set<string>(); // alarms whose history is shown
  const alarmsBox = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Loading alarms…'));
  const metricsBox = h('div', { class: 'metrics' }, h('p', { class: 'muted' }, 'Loading metrics…'));
  const picker = new TimePicker(range, utc, (r, u) => {
    range = r;
    utc = u;
    void draw();
  });
  const refresh = h('button', { type: 'button', class: 'secondary small', onclick: () => void draw() }, 'Refresh');
  const el = h(
    'div',
    { class: 'page monitoring' },
    h('div', { class: 'toolbar' }, h('h1', null, 'Metrics and alarms'), h('span', { class: 'spacer' }), picker.el, refresh),
    h('section', null, h('h2', null, 'Alarms'), alarmsBox),
    h('section', null, h('h2', null, 'Metric filters'), metricsBox),
  );

  function historyRow(a: Alarm, items: AlarmHistoryItem[]): HTMLElement {
    return h(
      'tr',
      { class: 'alarm-history', 'data-history': a.alarmName },
      h(
        'td',
        { colspan: 5 },
        items.length
          ? h(
              'table',
              { class: 'history-items' },
              h('thead', null, h('tr', null, h('th', null, 'When'), h('th', null, 'What'), h('th', null, 'Change'), h('th', null, 'Reason'))),
              h(
                'tbody',
                null,
                items.map((it) =>
                  h(
                    'tr',
                    { 'data-type': it.historyItemType },
                    h('td', { class: 'nowrap' }, formatTime(it.timestamp, utc)),
                    h('td', null, it.historyItemType === 'StateUpdate' ? 'state' : it.historyItemType.toLowerCase()),
                    h('td', { class: 'nowrap' }, it.oldState || it.newState ? [stateBadge(it.oldState ?? ''), ' → ', stateBadge(it.newState ?? '')] : ''),
                    h('td', { class: 'small' }, it.reason ?? ''),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No history yet.'),
      ),
    );
  }

  async function drawAlarms(alarms: Alarm[]): Promise<void> {
    if (!alarms.length) {
      replace(
        alarmsBox,
        h('p', null, 'No alarms yet. An alarm watches a metric filter’s metric:'),
        h('pre', null, 'flowlens alarms add --name ssh-brute-force --namespace LogMetrics --metric SSHAccess \\\n  --statistic Sum --period 300 --threshold 10 --comparison GreaterThanOrEqualToThreshold \\\n  --action alertmanager+http://127.0.0.1:9093'),
      );
      return;
    }
    const histories = new Map<string, AlarmHistoryItem[]>();
    await Promise.all(
      [...open].map((n) =>
        app.api
          .alarmHistory(n)
          .then((items) => histories.set(n, items))
          .catch(() => histories.set(n, [])),
      ),
    );
    if (disposed) return;
    const body = h('tbody');
    for (const a of alarms) {
      const shown = open.has(a.alarmName);
      body.appendChild(
        h(
          'tr',
          { 'data-alarm': a.alarmName, class: `alarm-row ${a.state.stateValue.toLowerCase()}` },
          h('td', null, stateBadge(a.state.stateValue)),
          h('td', null, h('strong', null, a.alarmName), a.alarmDescription ? h('div', { class: 'muted small' }, a.alarmDescription) : null),
          h('td', null, h('code', null, `${a.namespace}/${a.metricName}`), h('div', { class: 'muted small' }, condition(a))),
          h(
            'td',
            { class: 'small' },
            a.state.stateUpdatedTimestamp ? h('div', { class: 'nowrap' }, `since ${formatTime(a.state.stateUpdatedTimestamp, utc)}`) : null,
            h('div', { class: 'muted' }, a.state.stateReason ?? ''),
          ),
          h(
            'td',
            null,
            h(
              'button',
              {
                type: 'button',
                class: 'secondary small',
                'aria-expanded': String(shown),
                'aria-label': `History of ${a.alarmName}`,
                onclick: () => {
                  if (open.has(a.alarmName)) open.delete(a.alarmName);
                  else open.add(a.alarmName);
                  void app.api.alarms().then(drawAlarms);
                },
              },
              shown ? 'Hide history' : 'History',
            ),
          ),
        ),
      );
      if (shown) body.appendChild(historyRow(a, histories.get(a.alarmName) ?? []));
    }
    replace(
      alarmsBox,
      h('table', { class: 'alarms' }, h('thead', null, h('tr', null, h('th', null, 'State'), h('th', null, 'Alarm'), h('th', null, 'Metric and rule'), h('th', null, 'State reason'), h('th', null, ''))), body),
    );
  }

  async function drawMetrics(filters: MetricFilter[], metrics: MetricSeries[], alarms: Alarm[], datasets: Dataset[]): Promise<void> {
    charts.splice(0).forEach((c) => c.dispose());
    if (!filters.length) {
      replace(
        metricsBox,
        h('p', null, 'No metric filters yet. A filter counts matching records into a metric as they are ingested:'),
        h('pre', null, "flowlens filters add --dataset my-flow-log --name SSHAccess --metric-namespace LogMetrics --metric-name SSHAccess \\\n  --pattern '[version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport=22, protocol, packets, bytes, start, end, action, log_status]'"),
      );
      return;
    }
    const span = absolute(range, datasets, [...new Set(filters.map((f) => f.dataset))]);
    const cards: HTMLElement[] = [];
    const work: Promise<void>[] = [];
    for (const f of filters) {
      const mt = f.metricTransformation;
      const key = `${mt.metricNamespace}/${mt.metricName}`;
      const on = alarms.filter((a) => a.namespace === mt.metricNamespace && a.metricName === mt.metricName);
      const total = metrics.filter((m) => m.namespace === mt.metricNamespace && m.metric === mt.metricName && m.filter === f.filterName && m.dataset === f.dataset);
      const samples = total.reduce((n, m) => n + m.total.n, 0);
      const chart = new ChartView('chart metric-chart');
      charts.push(chart);
      const note = h('p', { class: 'muted small metric-note' });
      cards.push(
        h(
          'div',
          { class: 'card metric', 'data-metric': key, 'data-filter': `${f.dataset}/${f.filterName}` },
          h('h3', null, mt.metricName, h('span', { class: 'muted small' }, ` ${mt.metricNamespace}`)),
          h('div', { class: 'muted small' }, `filter ${f.filterName} on ${f.dataset} · value ${mt.metricValue}${mt.unit ? ` (${mt.unit})` : ''} · ${formatCount(samples)} samples in all`),
          h('code', { class: 'pattern', title: f.filterPattern }, f.filterPattern || '(every record)'),
          chart.el,
          note,
          on.length ? h('div', { class: 'small' }, on.map((a) => h('span', { class: 'alarm-ref' }, stateBadge(a.state.stateValue), ` ${a.alarmName}: ${condition(a)} `))) : null,
        ),
      );
      if (!span) {
        chart.el.hidden = true;
        note.textContent = 'No data in the filter’s dataset yet.';
        continue;
      }
      const spanS = Math.max(60, (span.end - span.start) / 1000);
      const alarmPeriod = on.find((a) => a.statistic === 'Sum')?.period;
      const period = pickPeriod(spanS, alarmPeriod);
      const name = `${mt.metricName} per ${periodLabel(period)}`;
      work.push(
        app.api
          .datapoints({ namespace: mt.metricNamespace, metric: mt.metricName, period, start: new Date(span.start).toISOString(), end: new Date(span.end).toISOString(), statistic: 'Sum' })
          .then((dps) => {
            if (disposed) return;
            const thresholds: Threshold[] = on
              .filter((a) => a.statistic === 'Sum' && a.period === period)
              .map((a) => ({ value: a.threshold, label: `${a.alarmName} ${comparisons[a.comparisonOperator] ?? ''} ${formatCount(a.threshold)}` }));
            chart.render(series(dps, span.start, span.end, period, name), 'line', utc, thresholds);
            chart.el.dataset.points = String(dps.length);
            const sum = dps.reduce((n, d) => n + (d.value ?? d.sum), 0);
            note.textContent = dps.length
              ? `Sum ${formatCount(sum)} in ${formatTime(new Date(span.start).toISOString(), utc)} → ${formatTime(new Date(span.end).toISOString(), utc)}, per ${periodLabel(period)}`
              : 'No samples in this range.';
          })
          .catch((e: Error) => {
            note.textContent = e.message;
            note.className = 'error-text';
          }),
      );
    }
    replace(metricsBox, cards);
    await Promise.all(work);
  }

  async function draw(): Promise<void> {
    try {
      const [filters, metrics, alarms, datasets] = await Promise.all([app.api.metricFilters(), app.api.metrics(), app.api.alarms(), app.datasets()]);
      if (disposed) return;
      await Promise.all([drawAlarms(alarms), drawMetrics(filters, metrics, alarms, datasets)]);
      el.dataset.loaded = 'true';
    } catch (e) {
      replace(alarmsBox, h('p', { class: 'error-text' }, (e as Error).message));
    }
  }
  void draw();
  // Alarm states change as the server evaluates them: refresh them every 15 s.
  const timer = window.setInterval(() => {
    if (document.hidden || disposed) return;
    app.api
      .alarms()
      .then((a) => (disposed ? undefined : drawAlarms(a)))
      .catch(() => {});
  }, 15000);

  return {
    el,
    dispose: () => {
      disposed = true;
      clearInterval(timer);
      charts.forEach((c) => c.dispose());
    },
  };
}
