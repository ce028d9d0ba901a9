// The client of flowlens's REST API (/api/v1): one envelope for results and errors.

export interface Position {
  line: number;
  column: number;
  offset: number;
  end: number;
}

export type ColumnType = 'time' | 'number' | 'string' | 'bool' | 'json';
export interface Column {
  name: string;
  type: ColumnType;
}
export interface Shape {
  timeColumn: string | null;
  keys: string[];
  values: string[];
  addressKeys: string[];
}
export interface Statistics {
  recordsScanned?: number;
  recordsMatched?: number;
  bytesScanned?: number;
  elapsedMs?: number;
}
export type Value = string | number | boolean | null | Record<string, unknown> | unknown[];
export interface Result {
  columns: Column[];
  rows: Value[][];
  statistics?: Statistics;
  truncated?: boolean;
  shape?: Shape | null;
}
export interface ErrorBody {
  type: string;
  message: string;
  position?: Position;
}
export type QueryState = 'Scheduled' | 'Running' | 'Complete' | 'Failed' | 'Cancelled' | 'Timeout';
// Progress of a query run time slice by slice (the server does so when its answer is
// a union over slices: bin() aggregations, records in time order).
export interface Progress {
  slicesDone: number;
  slices: number;
  start?: string;
  end?: string;
}
export interface QueryStatus extends Partial<Result> {
  queryId: string;
  status: QueryState;
  statistics?: Statistics;
  error?: ErrorBody;
  // partial: the rows are those of the slices done so far (the query still runs).
  partial?: boolean;
  progress?: Progress;
}

export type Language = 'insights' | 'sql';
// Range is a relative range ({since: "1h"}), an absolute one, or all time ({}).
export interface Range {
  since?: string;
  start?: string;
  end?: string;
}
export interface QueryRequest extends Range {
  query: string;
  language: Language;
  datasets?: string[];
  limit?: number;
}

export interface Dataset {
  name: string;
  records: number;
  bytes: number;
  minTime: string | null;
  maxTime: string | null;
  lastIngest?: string | null;
  files?: number;
  retentionSeconds?: number;
}
export interface Field {
  name: string;
  column: string;
  type: string;
  aliases?: string[];
}
export interface LanguageInfo {
  commands: string[];
  functions: { name: string; signature: string; kind: string }[];
  keywords: string[];
}
export interface HistoryEntry {
  id: string;
  query: string;
  language: Language;
  datasets: string[] | null;
  since?: string;
  start?: string;
  end?: string;
  status: string;
  submittedAt: string;
  elapsedMs?: number;
  rows?: number;
}
// A run of a scheduled job (retention, report:NAME) in the job history.
export interface JobRun {
  id: number;
  job: string;
  trigger: string;
  status: 'running' | 'ok' | 'failed' | 'skipped' | 'missed';
  scheduled: string;
  started: string;
  finished?: string;
  durationMs: number;
  rows: number;
  output?: string;
  detail?: string;
  error?: string;
}
export interface JobInfo {
  name: string;
  schedule: string;
  lastRun?: string;
  nextRun?: string;
  running: boolean;
  last?: JobRun;
  error?: string;
}
export type ChartKind = 'auto' | 'line' | 'area' | 'bar' | 'sankey' | 'table';
export interface SavedQuery {
  id?: string;
  name: string;
  query: string;
  language: Language;
  datasets: string[];
  range: Range;
  chart: ChartKind;
  createdAt?: string;
  updatedAt?: string;
}
export interface Panel {
  savedQueryId: string;
  title: string;
  chart: ChartKind;
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Dashboard {
  id?: string;
  name: string;
  range: Range;
  panels: Panel[];
  createdAt?: string;
  updatedAt?: string;
}

// Metric filters, their metrics and the alarms on them (docs/API.md).
export interface MetricFilter {
  dataset: string;
  filterName: string;
  filterPattern: string;
  metricTransformation: {
    metricName: string;
    metricNamespace: string;
    metricValue: string;
    defaultValue?: number;
    dimensions?: Record<string, string>;
    unit?: string;
  };
  creationTime?: number;
}
export interface MetricSeries {
  namespace: string;
  metric: string;
  dimensions?: Record<string, string>;
  dataset: string;
  filter: string;
  unit?: string;
  total: { n: number; sum: number; min: number; max: number };
}
export interface Datapoint {
  timestamp: string;
  value?: number;
  n: number;
  sum: number;
  min: number;
  max: number;
}
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export interface Alarm {
  alarmName: string;
  alarmDescription?: string;
  namespace: string;
  metricName: string;
  dimensions?: Record<string, string>;
  statistic: string;
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  threshold: number;
  comparisonOperator: string;
  treatMissingData?: string;
  alarmActions?: string[];
  state: { stateValue: AlarmState; stateReason?: string; stateReasonData?: string; stateUpdatedTimestamp?: string };
}
export interface AlarmHistoryItem {
  timestamp: string;
  historyItemType: string;
  oldState?: string;
  newState?: string;
  reason?: string;
  data?: string;
}
// Ingest counters of the push endpoints and the S3 follower (GET /api/v1/ingest/*).
export type IngestCounters = Record<string, number | string | boolean | null | Record<string, unknown> | unknown[]>;

export class ApiError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly status: number,
    readonly position?: Position,
  ) {
    super(message);
  }
}

export class Api {
  constructor(
    private readonly token: () => string | null,
    private readonly onUnauthorized: () => void,
  ) {}

  // request calls the API and unwraps its envelope.
  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const tok = this.token();
    if (tok) headers.Authorization = `Bearer ${tok}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let resp: Response;
    try {
      resp = await fetch(`/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
      });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ApiError(`cannot reach the flowlens server: ${(e as Error).message}`, 'network', 0);
    }
    let env: { status?: string; data?: T; error?: ErrorBody } | null = null;
    try {
      env = await resp.json();
    } catch {
      env = null;
    }
    if (resp.status === 401) this.onUnauthorized();
    if (!resp.ok || !env || env.status !== 'ok') {
      const err = env?.error;
      let msg = err?.message || `${resp.status} ${resp.statusText}`;
      if (resp.status === 429) {
        const ra = resp.headers.get('Retry-After');
        if (ra) msg += ` (retry after ${ra} s)`;
      }
      throw new ApiError(msg, err?.type || 'http', resp.status, err?.position);
    }
    return env.data as T;
  }

  whoami = () => this.request<{ name: string; id: string }>('GET', '/whoami');
  language = () => this.request<LanguageInfo>('GET', '/language');
  datasets = () => this.request<Dataset[]>('GET', '/datasets');
  fields = (datasets: string[]) =>
    this.request<Field[]>('GET', `/fields${datasets.length ? `?datasets=${encodeURIComponent(datasets.join(','))}` : ''}`);
  metricFilters = () => this.request<{ metricFilters: MetricFilter[] }>('GET', '/metric-filters').then((d) => d.metricFilters ?? []);
  metrics = () => this.request<{ metrics: MetricSeries[] }>('GET', '/metrics').then((d) => d.metrics ?? []);
  datapoints = (p: { namespace: string; metric: string; period: number; start: string; end: string; statistic?: string }) =>
    this.request<{ datapoints: Datapoint[] }>(
      'GET',
      `/metrics/datapoints?${new URLSearchParams({ namespace: p.namespace, metric: p.metric, period: String(p.period), start: p.start, end: p.end, statistic: p.statistic ?? 'Sum', dimensions: 'any' })}`,
    ).then((d) => d.datapoints ?? []);
  alarms = () => this.request<{ metricAlarms: Alarm[] }>('GET', '/alarms').then((d) => d.metricAlarms ?? []);
  alarmHistory = (name: string) =>
    this.request<{ alarmHistoryItems: AlarmHistoryItem[] }>('GET', `/alarms/${encodeURIComponent(name)}/history`).then((d) => d.alarmHistoryItems ?? []);
  // ingest answers the counters of one ingest path, or null when this server has none (404).
  ingest = (path: 'firehose' | 's3') =>
    this.request<IngestCounters>('GET', `/ingest/${path}`).catch((e) => {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    });
  jobs = () => this.request<{ jobs: JobInfo[] }>('GET', '/jobs').then((d) => d.jobs);
  jobHistory = (limit = 10) => this.request<{ runs: JobRun[] }>('GET', `/jobs/history?limit=${limit}`).then((d) => d.runs);
  history = (limit = 50) => this.request<HistoryEntry[]>('GET', `/history?limit=${limit}`);
  query = (req: QueryRequest, signal?: AbortSignal) => this.request<Result>('POST', '/query', req, signal);
  start = (req: QueryRequest) => this.request<{ queryId: string }>('POST', '/queries', req);
  status = (id: string, signal?: AbortSignal) =>
    this.request<QueryStatus>('GET', `/queries/${encodeURIComponent(id)}`, undefined, signal);
  stop = (id: string) => this.request<{ success: boolean }>('POST', `/queries/${encodeURIComponent(id)}/stop`, {});
  validate = (req: QueryRequest, signal?: AbortSignal) =>
    this.request<{ valid: boolean; errors?: (Position & { message: string })[] }>('POST', '/validate', req, signal);
  savedQueries = () => this.request<SavedQuery[]>('GET', '/saved-queries');
  savedQuery = (id: string) => this.request<SavedQuery>('GET', `/saved-queries/${encodeURIComponent(id)}`);
  createSavedQuery = (q: SavedQuery) => this.request<SavedQuery>('POST', '/saved-queries', q);
  updateSavedQuery = (id: string, q: SavedQuery) =>
    this.request<SavedQuery>('PUT', `/saved-queries/${encodeURIComponent(id)}`, q);
  deleteSavedQuery = (id: string) => this.request<unknown>('DELETE', `/saved-queries/${encodeURIComponent(id)}`);
  dashboards = () => this.request<Dashboard[]>('GET', '/dashboards');
  dashboard = (id: string) => this.request<Dashboard>('GET', `/dashboards/${encodeURIComponent(id)}`);
  createDashboard = (d: Dashboard) => this.request<Dashboard>('POST', '/dashboards', d);
  updateDashboard = (id: string, d: Dashboard) =>
    this.request<Dashboard>('PUT', `/dashboards/${encodeURIComponent(id)}`, d);
  deleteDashboard = (id: string) => this.request<unknown>('DELETE', `/dashboards/${encodeURIComponent(id)}`);
}

// rangeFields turns a Range into the request's since/start/end (all time: none).
export function rangeFields(r: Range): Range {
  if (r.since) return { since: r.since };
  if (r.start || r.end) return { ...(r.start ? { start: r.start } : {}), ...(r.end ? { end: r.end } : {}) };
  return {};
}
