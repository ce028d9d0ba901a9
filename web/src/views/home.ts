// The first page: which datasets exist and their time ranges, the questions of the
// common use cases one click away, what the server's ingest paths (S3 follower,
// Firehose endpoint) have done, and its scheduled jobs (retention, reports) with
// their latest runs.

import type { App, Page } from '../app';
import type { Api, ChartKind, IngestCounters, JobRun } from '../api';
import { h, replace } from '../dom';
import { formatBytes, formatDuration, formatTime } from '../format';
import { encodeState } from '../link';

interface Question {
  id: string;
  title: string;
  text: string;
  query: string;
  chart: ChartKind;
}

export const questions: Question[] = [
  {
    id: 'rejected',
    title: 'Rejected traffic',
    text: 'Sources whose traffic security groups or network ACLs rejected, with the ports and hosts they tried.',
    query: 'filter action = "REJECT"\n| stats count(*) as rejects, count_distinct(dstPort) as ports, count_distinct(dstAddr) as targets by srcAddr\n| sort rejects desc\n| limit 20',
    chart: 'auto',
  },
  {
    id: 'ssh-rdp',
    title: 'SSH and RDP knocking',
    text: 'Who connects to port 22 or 3389, and where to.',
    query: 'filter dstPort = 22 or dstPort = 3389\n| stats count(*) as attempts by srcAddr, dstAddr\n| sort attempts desc\n| limit 25',
    chart: 'auto',
  },
  {
    id: 'port-scans',
    title: 'Port scans',
    text: 'Sources probing many ports or many hosts, mostly rejected.',
    query: 'filter action = "REJECT"\n| stats count_distinct(dstPort) as ports, count_distinct(dstAddr) as hosts, count(*) as probes by srcAddr\n| filter ports >= 20 or hosts >= 20\n| sort ports desc\n| limit 20',
    chart: 'auto',
  },
  {
    id: 'top-talkers',
    title: 'Top talkers',
    text: 'The source and destination pairs that moved the most bytes.',
    query: 'stats sum(bytes) as bytes, sum(packets) as packets by srcAddr, dstAddr\n| sort bytes desc\n| limit 25',
    chart: 'auto',
  },
  {
    id: 'traffic',
    title: 'Traffic over time',
    text: 'Bytes per 15 minutes, accepted and rejected stacked.',
    query: 'stats sum(bytes) as bytes by bin(15m), action',
    chart: 'area',
  },
];

// hostQuery lists the flows from or to one address.
export function hostQuery(addr: string): string {
  const a = addr.replace(/["\\]/g, '');
  return `fields @timestamp, srcAddr, srcPort, dstAddr, dstPort, protocol, action, bytes, packets\n| filter srcAddr = "${a}" or dstAddr = "${a}"\n| sort @timestamp desc\n| limit 500`;
}

function link(query: string, chart: ChartKind, datasets: string[] = []): string {
  return `${encodeState({ query, language: 'insights', datasets, range: {}, chart, utc: true })}&run=1`;
}

export function homePage(app: App): Page {
  const dsBox = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Loading datasets…'));
  const addr = h('input', { type: 'text', placeholder: '10.0.1.5', 'aria-label': 'Host address', class: 'addr' });
  const hostForm = h(
    'form',
    {
      class: 'question card',
      'data-question': 'host',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const a = addr.value.trim();
        if (!/^[0-9A-Fa-f.:]+$/.test(a)) {
          addr.setCustomValidity('An IPv4 or IPv6 address');
          addr.reportValidity();
          return;
        }
        app.navigate(link(hostQuery(a), 'table'));
      },
    },
    h('h3', null, 'A host’s flows'),
    h('p', { class: 'muted' }, 'Every flow from or to one address, newest first.'),
    h('div', { class: 'row' }, addr, h('button', { type: 'submit', class: 'primary' }, 'Show')),
  );
  addr.addEventListener('input', () => addr.setCustomValidity(''));
  const cards = questions.map((q) =>
    h(
      'a',
      { class: 'question card', href: link(q.query, q.chart), 'data-question': q.id },
      h('h3', null, q.title),
      h('p', { class: 'muted' }, q.text),
      h('code', { class: 'q-preview' }, q.query.split('\n')[0] + (q.query.includes('\n') ? ' | …' : '')),
    ),
  );
  const el = h(
    'div',
    { class: 'page home' },
    h('h1', null, 'What happened on your network?'),
    h('section', null, h('h2', null, 'Datasets'), dsBox),
    h('section', null, h('h2', null, 'Questions'), h('div', { class: 'questions' }, cards, hostForm)),
    ingestSection(app.api),
    jobsSection(app.api),
  );

  app
    .datasets(true)
    .then((ds) => {
      if (!ds.length) {
        replace(
          dsBox,
          h('p', null, 'No datasets yet. Load flow logs on the server:'),
          h('pre', null, 'flowlens ingest --data DIR ./AWSLogs/\nflowlens demo            # or a generated day with attacks mixed in'),
        );
        return;
      }
      replace(
        dsBox,
        h(
          'table',
          { class: 'datasets' },
          h('thead', null, h('tr', null, h('th', null, 'Dataset'), h('th', { class: 'num' }, 'Records'), h('th', null, 'From (UTC)'), h('th', null, 'To (UTC)'), h('th', { class: 'num' }, 'Size'), h('th', null, ''))),
          h(
            'tbody',
            null,
            ds.map((d) =>
              h(
                'tr',
                { 'data-dataset': d.name },
                h('td', null, h('strong', null, d.name)),
                h('td', { class: 'num' }, d.records.toLocaleString('en')),
                h('td', null, d.minTime ? formatTime(d.minTime, true) : '–'),
                h('td', null, d.maxTime ? formatTime(d.maxTime, true) : '–'),
                h('td', { class: 'num' }, formatBytes(d.bytes)),
                h('td', null, h('a', { class: 'button secondary small', href: link('fields @timestamp, srcAddr, dstAddr, dstPort, action, bytes\n| sort @timestamp desc\n| limit 100', 'auto', [d.name]) }, 'Explore')),
              ),
            ),
          ),
        ),
      );
    })
    .catch((e: Error) => replace(dsBox, h('p', { class: 'error-text' }, e.message)));
  return { el };
}

function runCells(r: JobRun | undefined): HTMLElement[] {
  if (!r) return [h('td', { class: 'muted' }, 'not run yet'), h('td', null, ''), h('td', null, '')];
  const what = r.error || r.output || r.detail || '';
  return [
    h('td', { class: `job-status ${r.status}` }, r.status),
    h('td', { class: 'num' }, r.rows.toLocaleString('en')),
    h('td', { class: 'small', title: r.detail || '' }, what),
  ];
}

// jobsSection lists the scheduled jobs and the newest runs of the job history.
function jobsSection(api: Api): HTMLElement {
  const box = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Loading jobs…'));
  Promise.all([api.jobs(), api.jobHistory(10)])
    .then(([jobs, runs]) => {
      const when = (t?: string) => (t ? formatTime(t, true) : '–');
      replace(
        box,
        h(
          'table',
          { class: 'jobs' },
          h('thead', null, h('tr', null, h('th', null, 'Job'), h('th', null, 'Schedule'), h('th', null, 'Next run (UTC)'), h('th', null, 'Last'), h('th', { class: 'num' }, 'Rows'), h('th', null, 'Output'))),
          h(
            'tbody',
            null,
            jobs.map((j) =>
              h('tr', { 'data-job': j.name }, h('td', null, h('strong', null, j.name), j.running ? h('span', { class: 'muted small' }, ' running') : null), h('td', null, h('code', null, j.schedule)), h('td', null, j.error ? j.error : when(j.nextRun)), ...runCells(j.last)),
            ),
          ),
        ),
        h('h3', null, 'Recent runs'),
        runs.length
          ? h(
              'table',
              { class: 'job-runs' },
              h('thead', null, h('tr', null, h('th', null, 'Job'), h('th', null, 'Trigger'), h('th', null, 'For (UTC)'), h('th', null, 'Took'), h('th', null, 'Status'), h('th', { class: 'num' }, 'Rows'), h('th', null, 'Output'))),
              h(
                'tbody',
                null,
                runs.map((r) => h('tr', { 'data-run': String(r.id), 'data-job': r.job }, h('td', null, r.job), h('td', null, r.trigger), h('td', null, when(r.scheduled)), h('td', null, formatDuration(r.durationMs)), ...runCells(r))),
              ),
            )
          : h('p', { class: 'muted' }, 'No run yet: reports run on their schedules (flowlens reports add), retention every hour.'),
      );
    })
    .catch((e: Error) => replace(box, h('p', { class: 'error-text' }, e.message)));
  return h('section', null, h('h2', null, 'Scheduled jobs'), box);
}

const ingestLabels: Record<string, string> = {
  requests: 'Requests',
  failed: 'Failed answers',
  duplicates: 'Retries stored once',
  firehoseRecords: 'Firehose records',
  records: 'Flow log records stored',
  rejected: 'Lines kept aside',
  bytes: 'Bytes received',
  lastDelivery: 'Last delivery',
};

// The S3 follower's (GET /api/v1/ingest/s3).
const s3Labels: Record<string, string> = {
  prefixes: 'Followed prefixes (serve --follow)',
  url: 'Prefix',
  lastList: 'Last listed',
  newestObjectTime: 'Newest object',
  newestKey: 'Newest key',
  lagSeconds: 'Lag',
  objects: 'Objects',
  records: 'Records',
  rejectedLines: 'Lines kept aside',
  pending: 'Pending',
  listErrors: 'List errors',
  failed: 'Objects failing',
  objectErrors: 'Object errors',
};

const isTime = (v: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v);

// ingestValue prints a counter: numbers grouped, times in UTC ("never" for the zero
// time), durations in seconds as such, lists and objects as JSON.
function ingestValue(k: string, v: unknown): string {
  if (v === null || v === undefined || v === '') return '–';
  if (typeof v === 'number') {
    if (/bytes$/i.test(k)) return formatBytes(v);
    if (/(lag|age)(Seconds)?$/i.test(k)) return ageText(v);
    return v.toLocaleString('en');
  }
  if (typeof v === 'string') return isTime(v) ? (v.startsWith('0001-') ? 'never' : formatTime(v, true)) : v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  // A list or a map (objects failing, by key) is shown by its size.
  if (typeof v === 'object') return (Array.isArray(v) ? v.length : Object.keys(v).length).toLocaleString('en');
  return String(v);
}

// ageText prints seconds as "42 s", "5 min 3 s", "3 h 12 min" or "12 d 4 h".
function ageText(sec: number): string {
  const s = Math.round(sec);
  if (s < 3600) return formatDuration(s * 1000);
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function label(k: string, path = ''): string {
  return (path === 's3' ? s3Labels[k] : ingestLabels[k]) ?? k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

// countersTable shows one ingest path's counters; lists of objects (e.g. one entry
// per followed S3 prefix) become a table of their own.
function countersTable(path: string, c: IngestCounters): HTMLElement {
  const scalars = Object.entries(c).filter(([, v]) => !Array.isArray(v));
  const lists = Object.entries(c).filter(([, v]) => Array.isArray(v)) as [string, unknown[]][];
  return h(
    'div',
    { class: 'ingest-path', 'data-ingest': path },
    h('h3', null, path === 's3' ? 'S3 follower' : 'Firehose endpoint (POST /firehose)'),
    h('table', { class: 'counters' }, h('tbody', null, scalars.map(([k, v]) => h('tr', { 'data-counter': k }, h('th', null, label(k, path)), h('td', { class: typeof v === 'number' ? 'num' : '' }, ingestValue(k, v)))))),
    lists.map(([k, items]) => {
      const objs = items.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
      const cols = [...new Set(objs.flatMap((o) => Object.keys(o)))].filter((col) => col !== 'newestKey');
      return h(
        'div',
        null,
        h('h4', null, label(k, path)),
        objs.length
          ? h('table', { class: 'counters-list', 'data-list': k }, h('thead', null, h('tr', null, cols.map((col) => h('th', null, label(col, path))))),
              h('tbody', null, objs.map((o) => h('tr', null, cols.map((col) => h('td', { class: typeof o[col] === 'number' ? 'num' : '' }, ingestValue(col, o[col])))))))
          : h('p', { class: 'muted' }, 'none'),
      );
    }),
  );
}

// ingestSection shows the counters of the ingest paths this server runs.
function ingestSection(api: Api): HTMLElement {
  const box = h('div', { class: 'card ingest' }, h('p', { class: 'muted' }, 'Loading ingest status…'));
  const section = h('section', null, h('h2', null, 'Ingest'), box);
  Promise.all([api.ingest('s3'), api.ingest('firehose')])
    .then(([s3, fh]) => {
      // The S3 follower answers even when it follows nothing (serve without --follow).
      const following = s3 && !(Array.isArray(s3.prefixes) && s3.prefixes.length === 0);
      const parts = [following ? countersTable('s3', s3) : null, fh ? countersTable('firehose', fh) : null].filter((x): x is HTMLElement => !!x);
      if (!parts.length) {
        section.hidden = true;
        return;
      }
      replace(box, parts);
    })
    .catch((e: Error) => replace(box, h('p', { class: 'error-text' }, e.message)));
  return section;
}
