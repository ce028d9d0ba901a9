// The query page: editor, language switch, dataset and time pickers, run/stop with
// a progress line, results as chart and table, history, saved queries, share link.

import type { App, Page } from '../app';
import { ApiError, rangeFields, type ChartKind, type Dashboard, type Language, type QueryRequest, type Result, type SavedQuery } from '../api';
import { ChartView, autoChart, possible } from '../chart';
import { copyText, download, h, modal, promptText, replace, toast } from '../dom';
import { Editor } from '../editor';
import { toCSV, toJSON } from '../export';
import { formatCount, formatDuration, formatTime } from '../format';
import { decodeState, encodeState, type QueryState } from '../link';
import { DatasetPicker, TimePicker, rangeLabel } from '../pickers';
import { ResultTable } from '../table';

export const examples: Record<Language, string> = {
  insights: 'fields @timestamp, srcAddr, dstAddr, dstPort, action, bytes\n| sort @timestamp desc\n| limit 100',
  sql: 'SELECT srcaddr, dstaddr, sum(bytes) AS bytes\nFROM flows\nGROUP BY srcaddr, dstaddr\nORDER BY bytes DESC\nLIMIT 10',
};

const chartNames: Record<ChartKind, string> = { auto: 'Auto', line: 'Line', area: 'Area (stacked)', bar: 'Bar', sankey: 'Sankey', table: 'Table only' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function queryPage(app: App, params: URLSearchParams): Page {
  const state: QueryState = decodeState(params, {
    query: examples.insights,
    language: 'insights',
    datasets: [],
    range: {},
    chart: 'auto',
    utc: true,
  });
  let saved: SavedQuery | null = null; // the saved query being edited, if any
  let result: Result | null = null;
  let running: { id: string; t0: number; stopped: boolean } | null = null;
  let disposed = false;
  let validateTimer = 0;
  let validateAbort: AbortController | null = null;

  // Editor.
  const editor = new Editor({
    onRun: () => void run(),
    onChange: (text) => {
      state.query = text;
      scheduleValidate();
    },
  });
  editor.value = state.query;
  editor.setLanguage(state.language);
  app.language().then((l) => editor.setLanguageInfo(l)).catch(() => {});

  // Toolbar.
  const langButtons = (['insights', 'sql'] as Language[]).map((l) =>
    h('button', { type: 'button', class: 'seg', 'data-language': l, onclick: () => setLanguage(l) }, l === 'insights' ? 'Logs Insights' : 'SQL'),
  );
  const drawLang = () => langButtons.forEach((b) => b.classList.toggle('on', b.dataset.language === state.language));
  drawLang();
  const dsPicker = new DatasetPicker(state.datasets, (names) => {
    state.datasets = names;
    loadFields();
    scheduleValidate();
  });
  app.datasets().then((ds) => dsPicker.setDatasets(ds)).catch(() => {});
  const timePicker = new TimePicker(state.range, state.utc, (r, utc) => {
    state.range = r;
    const tzChanged = utc !== state.utc;
    state.utc = utc;
    if (tzChanged && result) showResult(result);
  });
  const runButton = h('button', { type: 'button', class: 'primary run', title: 'Run (Ctrl+Enter)', onclick: () => (running ? void stop() : void run()) }, 'Run');
  const saveButton = h('button', { type: 'button', class: 'secondary', onclick: () => void save() }, 'Save');
  const shareButton = h('button', { type: 'button', class: 'secondary', onclick: () => void share() }, 'Share link');
  const sideButton = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', onclick: () => toggleSide() }, 'History & saved');

  // Status, results.
  const status = h('div', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
  // How far a running query is: the time slices done (determinate) or just that it runs.
  const bar = h('div', { class: 'bar' });
  const progress = h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Query progress', hidden: true }, bar);
  const setProgress = (done?: number, total?: number) => {
    progress.hidden = done === undefined;
    const known = !!total;
    progress.classList.toggle('indeterminate', !known);
    bar.style.width = known ? `${Math.round((100 * (done ?? 0)) / total!)}%` : '';
    if (known) {
      progress.setAttribute('aria-valuenow', String(done));
      progress.setAttribute('aria-valuemax', String(total));
    } else {
      progress.removeAttribute('aria-valuenow');
      progress.removeAttribute('aria-valuemax');
    }
  };
  const chartSelect = h('select', { 'aria-label': 'Chart', class: 'chart-select', onchange: () => {
    state.chart = chartSelect.value as ChartKind;
    updateHash();
    if (result) showResult(result);
  } });
  const csvButton = h('button', { type: 'button', class: 'secondary small', onclick: () => result && download('flowlens-results.csv', 'text/csv', toCSV(result)) }, 'CSV');
  const jsonButton = h('button', { type: 'button', class: 'secondary small', onclick: () => result && download('flowlens-results.json', 'application/json', toJSON(result)) }, 'JSON');
  const resultInfo = h('span', { class: 'muted small result-info' });
  const chart = new ChartView();
  const table = { el: h('div', { class: 'table-host' }) };
  let tableView: ResultTable | null = null;
  const resultsBar = h('div', { class: 'results-bar', hidden: true }, h('label', null, 'Chart ', chartSelect), resultInfo, h('span', { class: 'spacer' }), h('span', { class: 'muted small' }, 'Download '), csvButton, jsonButton);
  const results = h('section', { class: 'results-area' }, resultsBar, chart.el, table.el);
  chart.el.hidden = true;

  // Side panel.
  const side = h('aside', { class: 'side', hidden: true });

  const el = h(
    'div',
    { class: 'page query-page' },
    h(
      'div',
      { class: 'query-main' },
      h('div', { class: 'toolbar' },
        h('div', { class: 'segmented', role: 'group', 'aria-label': 'Language' }, langButtons),
        dsPicker.el, timePicker.el, h('span', { class: 'spacer' }), sideButton, shareButton, saveButton, runButton),
      editor.el,
      progress,
      status,
      results,
    ),
    side,
  );

  function setLanguage(l: Language): void {
    if (l === state.language) return;
    const other = state.language;
    state.language = l;
    if (!state.query.trim() || state.query === examples[other]) {
      state.query = examples[l];
      editor.value = state.query;
    }
    editor.setLanguage(l);
    drawLang();
    scheduleValidate();
  }

  function request(): QueryRequest {
    return { query: state.query, language: state.language, ...(state.datasets.length ? { datasets: state.datasets } : {}), ...rangeFields(state.range) };
  }

  function updateHash(): void {
    history.replaceState(null, '', encodeState(state));
  }

  async function loadFields(): Promise<void> {
    try {
      editor.setFields(await app.api.fields(state.datasets));
    } catch {
      // completion just lacks fields
    }
  }
  void loadFields();

  function scheduleValidate(): void {
    clearTimeout(validateTimer);
    validateAbort?.abort();
    validateTimer = window.setTimeout(async () => {
      if (!state.query.trim()) return;
      const text = state.query;
      validateAbort = new AbortController();
      try {
        const v = await app.api.validate(request(), validateAbort.signal);
        if (disposed || text !== state.query) return;
        if (!v.valid && v.errors?.length) {
          const e = v.errors[0];
          editor.setError(e, e.message);
        } else editor.setError(null, null);
      } catch {
        // validation is a hint; running shows the error anyway
      }
    }, 450);
  }

  function showError(e: unknown): void {
    if (e instanceof ApiError) {
      editor.setError(e.position, e.message);
      status.textContent = e.position ? 'The query has an error (underlined).' : `Error: ${e.message}`;
    } else {
      status.textContent = `Error: ${(e as Error).message}`;
    }
    status.className = 'status-line error';
  }

  async function run(): Promise<void> {
    if (running) return;
    state.query = editor.value;
    if (!state.query.trim()) return;
    updateHash();
    editor.setError(null, null);
    status.className = 'status-line running';
    status.textContent = 'Starting…';
    const t0 = performance.now();
    let id: string;
    try {
      id = (await app.api.start(request())).queryId;
    } catch (e) {
      showError(e);
      return;
    }
    running = { id, t0, stopped: false };
    setProgress(0);
    runButton.textContent = 'Stop';
    runButton.classList.add('stop');
    let delay = 150;
    let shownPartial = -1;
    try {
      for (;;) {
        await sleep(delay);
        delay = Math.min(delay * 1.5, 1000);
        if (disposed) return;
        const st = await app.api.status(id);
        const elapsed = st.statistics?.elapsedMs ?? performance.now() - t0;
        const scanned = `${formatCount(st.statistics?.recordsScanned ?? 0)} records scanned`;
        if (st.status === 'Scheduled' || st.status === 'Running') {
          const parts = [running.stopped ? 'Stopping' : st.status === 'Scheduled' ? 'Queued' : 'Running', scanned];
          if (st.statistics?.recordsMatched) parts.push(`${formatCount(st.statistics.recordsMatched)} matched`);
          if (st.progress) {
            const span = st.progress.start && st.progress.end ? ` (${formatTime(st.progress.start, state.utc)} → ${formatTime(st.progress.end, state.utc)})` : '';
            parts.push(`${st.progress.slicesDone} of ${st.progress.slices} time slices${span}`);
          }
          if (st.partial && st.rows) {
            parts.push(`${st.rows.length.toLocaleString('en')} rows so far`);
            if (st.rows.length !== shownPartial) {
              shownPartial = st.rows.length;
              showResult({ columns: st.columns ?? [], rows: st.rows, statistics: st.statistics, shape: st.shape ?? null });
            }
          }
          parts.push(formatDuration(performance.now() - t0));
          status.textContent = parts.join(' · ');
          setProgress(st.progress?.slicesDone ?? 0, st.progress?.slices);
          status.dataset.partial = st.partial ? 'true' : 'false';
          continue;
        }
        delete status.dataset.partial;
        if (st.status === 'Complete') {
          const r: Result = { columns: st.columns ?? [], rows: st.rows ?? [], statistics: st.statistics, truncated: st.truncated, shape: st.shape ?? null };
          status.className = 'status-line done';
          status.textContent = `Complete · ${r.rows.length.toLocaleString('en')} rows${r.truncated ? ' (truncated: raise the limit to see more)' : ''} · ${scanned} · ${formatCount(st.statistics?.recordsMatched)} matched · ${formatDuration(elapsed)}`;
          showResult(r);
        } else if (st.status === 'Failed') {
          showError(new ApiError(st.error?.message ?? 'the query failed', st.error?.type ?? 'internal', 0, st.error?.position));
        } else {
          status.className = 'status-line';
          const kept = st.partial && st.rows ? ` · the ${st.rows.length.toLocaleString('en')} rows of ${st.progress?.slicesDone ?? 0} of ${st.progress?.slices ?? 0} time slices` : '';
          if (st.partial && st.rows) showResult({ columns: st.columns ?? [], rows: st.rows, statistics: st.statistics, shape: st.shape ?? null });
          status.textContent = `${st.status === 'Timeout' ? 'Timed out' : 'Stopped'} after ${formatDuration(elapsed)} · ${scanned}${kept}`;
        }
        break;
      }
    } catch (e) {
      showError(e);
    } finally {
      setProgress();
      running = null;
      runButton.textContent = 'Run';
      runButton.classList.remove('stop');
    }
  }

  async function stop(): Promise<void> {
    if (!running) return;
    running.stopped = true;
    status.textContent = 'Stopping…';
    try {
      await app.api.stop(running.id);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  }

  function showResult(r: Result): void {
    result = r;
    resultsBar.hidden = false;
    const kinds = possible(r);
    const auto = autoChart(r);
    replace(
      chartSelect,
      (['auto', ...kinds] as ChartKind[]).map((k) =>
        h('option', { value: k, selected: k === state.chart }, k === 'auto' ? `Auto (${chartNames[auto].toLowerCase()})` : chartNames[k]),
      ),
    );
    if (!kinds.includes(state.chart as never)) chartSelect.value = 'auto';
    const drawn = chart.render(r, chartSelect.value as ChartKind, state.utc);
    results.dataset.chart = drawn;
    resultInfo.textContent = `${r.rows.length.toLocaleString('en')} rows · ${r.columns.length} columns`;
    if (!tableView) {
      tableView = new ResultTable();
      table.el.appendChild(tableView.el);
    }
    tableView.render(r, state.utc);
  }

  async function save(): Promise<void> {
    let dashboards: Dashboard[] = [];
    try {
      dashboards = await app.api.dashboards();
    } catch {
      // saving still works
    }
    const res = await modal<{ name: string; replace: boolean; dashboard: string }>('Save query', (done) => {
      const name = h('input', { type: 'text', class: 'wide', 'aria-label': 'Name', value: saved?.name ?? '', placeholder: 'Rejected SSH by source' });
      const repl = h('input', { type: 'checkbox', checked: !!saved });
      const dash = h('select', { 'aria-label': 'Add to dashboard' },
        h('option', { value: '' }, '— none —'),
        dashboards.map((d) => h('option', { value: d.id! }, d.name)),
        h('option', { value: '*new' }, 'New dashboard…'));
      return h('form', {
        onsubmit: (e: Event) => {
          e.preventDefault();
          if (name.value.trim()) done({ name: name.value.trim(), replace: repl.checked, dashboard: dash.value });
        },
      },
        h('label', null, 'Name', name),
        saved ? h('label', { class: 'check' }, repl, ` Replace “${saved.name}”`) : null,
        h('label', null, 'Add to dashboard', dash),
        h('p', { class: 'muted small' }, `${rangeLabel(state.range, state.utc)} · ${state.datasets.length ? state.datasets.join(', ') : 'all datasets'} · chart ${chartNames[state.chart].toLowerCase()}`),
        h('div', { class: 'modal-buttons' },
          h('button', { type: 'button', class: 'secondary', onclick: () => done(null) }, 'Cancel'),
          h('button', { type: 'submit', class: 'primary' }, 'Save')));
    });
    if (!res) return;
    const body: SavedQuery = { name: res.name, query: editor.value, language: state.language, datasets: state.datasets, range: rangeFields(state.range), chart: state.chart };
    try {
      saved = res.replace && saved?.id ? await app.api.updateSavedQuery(saved.id, body) : await app.api.createSavedQuery(body);
      if (res.dashboard) {
        let d: Dashboard;
        if (res.dashboard === '*new') {
          const dn = await promptText('New dashboard', 'Name of the new dashboard', res.name);
          if (!dn) return;
          d = await app.api.createDashboard({ name: dn, range: rangeFields(state.range), panels: [] });
        } else d = await app.api.dashboard(res.dashboard);
        const y = d.panels.reduce((m, p) => Math.max(m, p.y + p.h), 0);
        d.panels.push({ savedQueryId: saved.id!, title: saved.name, chart: 'auto', x: 0, y, w: 6, h: 4 });
        await app.api.updateDashboard(d.id!, d);
        toast(`Saved “${saved.name}” and added it to “${d.name}”`);
      } else toast(`Saved “${saved.name}”`);
      if (!side.hidden) void drawSide();
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  }

  async function share(): Promise<void> {
    state.query = editor.value;
    updateHash();
    const url = `${location.origin}${location.pathname}${encodeState(state)}`;
    await copyText(url).catch(() => {});
    await modal<null>('Share this query', (done) =>
      h('div', null,
        h('p', { class: 'muted' }, 'The link keeps the query, datasets, time range and chart (not your token). Whoever opens it signs in with their own token.'),
        h('input', { type: 'text', class: 'wide share-link', readonly: true, value: url, onfocus: (e: Event) => (e.target as HTMLInputElement).select() }),
        h('div', { class: 'modal-buttons' },
          h('button', { type: 'button', class: 'secondary', onclick: () => void copyText(url).then(() => toast('Link copied')) }, 'Copy'),
          h('button', { type: 'button', class: 'primary', onclick: () => done(null) }, 'Close'))));
  }

  function load(s: Partial<QueryState>, from: SavedQuery | null): void {
    Object.assign(state, s);
    saved = from;
    editor.value = state.query;
    editor.setLanguage(state.language);
    drawLang();
    dsPicker.set(state.datasets);
    timePicker.set(state.range, state.utc);
    void loadFields();
    updateHash();
    editor.focus();
  }

  function toggleSide(): void {
    side.hidden = !side.hidden;
    sideButton.setAttribute('aria-expanded', String(!side.hidden));
    if (!side.hidden) void drawSide();
  }

  async function drawSide(): Promise<void> {
    const hist = h('ul', { class: 'list history' }, h('li', { class: 'muted' }, 'Loading…'));
    const sav = h('ul', { class: 'list saved' }, h('li', { class: 'muted' }, 'Loading…'));
    replace(side, h('h3', null, 'Saved queries'), sav, h('h3', null, 'History'), hist);
    app.api.savedQueries().then((qs) => replace(sav, qs.length ? qs.map((q) =>
      h('li', null,
        h('button', { type: 'button', class: 'link', title: q.query, onclick: () => load({ query: q.query, language: q.language, datasets: q.datasets ?? [], range: q.range ?? {}, chart: q.chart ?? 'auto' }, q) }, q.name),
        h('button', { type: 'button', class: 'icon', title: 'Delete', 'aria-label': `Delete ${q.name}`, onclick: async () => {
          if (!confirm(`Delete the saved query “${q.name}”?`)) return;
          await app.api.deleteSavedQuery(q.id!).catch((e: Error) => toast(e.message, 'error'));
          void drawSide();
        } }, '✕'))) : h('li', { class: 'muted' }, 'None yet: Save keeps the query with its range and chart.'))).catch((e: Error) => replace(sav, h('li', { class: 'error-text' }, e.message)));
    app.api.history(50).then((hs) => replace(hist, hs.length ? hs.map((e) =>
      h('li', null,
        h('button', { type: 'button', class: 'link mono', title: e.query, onclick: () => load({ query: e.query, language: e.language, datasets: e.datasets ?? [], range: rangeFields({ since: e.since, start: e.start, end: e.end }) }, null) }, e.query.replace(/\s+/g, ' ').slice(0, 90)),
        h('div', { class: 'muted small' }, `${formatTime(e.submittedAt, state.utc)} · ${e.status}${e.rows !== undefined ? ` · ${e.rows} rows` : ''}${e.elapsedMs !== undefined ? ` · ${formatDuration(e.elapsedMs)}` : ''}`))) : h('li', { class: 'muted' }, 'No queries yet.'))).catch((e: Error) => replace(hist, h('li', { class: 'error-text' }, e.message)));
  }

  // A saved query opened from a dashboard: #/query?saved=ID.
  const savedId = params.get('saved');
  if (savedId) {
    app.api.savedQuery(savedId).then((q) => load({ query: q.query, language: q.language, datasets: q.datasets ?? [], range: q.range ?? {}, chart: q.chart ?? 'auto' }, q)).catch((e: Error) => toast(e.message, 'error'));
  } else if (params.get('run') === '1' && state.query.trim()) {
    void run();
  } else {
    editor.focus();
  }

  return {
    el,
    dispose: () => {
      disposed = true;
      clearTimeout(validateTimer);
      validateAbort?.abort();
      if (running) void app.api.stop(running.id).catch(() => {});
      chart.dispose();
    },
  };
}
