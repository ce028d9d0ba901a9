// Dashboards: the list (#/dashboards) and one dashboard (#/dashboards/ID), a grid of
// saved queries, each run with the dashboard's time range (or its own) and drawn
// with its chart.

import type { App, Page } from '../app';
import { rangeFields, type Dashboard, type Panel, type Range, type Result, type SavedQuery } from '../api';
import { ChartView } from '../chart';
import { h, promptText, replace, toast } from '../dom';
import { formatTime } from '../format';
import { encodeState } from '../link';
import { TimePicker, rangeLabel } from '../pickers';
import { ResultTable } from '../table';

export function dashboardsPage(app: App): Page {
  const list = h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Loading…'));
  const create = async () => {
    const name = await promptText('New dashboard', 'Name', '', 'Security overview');
    if (!name) return;
    try {
      const d = await app.api.createDashboard({ name, range: {}, panels: [] });
      app.navigate(`#/dashboards/${encodeURIComponent(d.id!)}`);
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  };
  const el = h(
    'div',
    { class: 'page dashboards' },
    h('div', { class: 'page-head' }, h('h1', null, 'Dashboards'), h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'primary', onclick: () => void create() }, 'New dashboard')),
    list,
  );
  app.api
    .dashboards()
    .then((ds) => {
      if (!ds.length) {
        replace(list, h('p', { class: 'muted' }, 'No dashboards yet. Save a query and add it to a new dashboard, or create an empty one here.'));
        return;
      }
      replace(
        list,
        h('ul', { class: 'list dash-list' },
          ds.map((d) =>
            h('li', { 'data-dashboard': d.id },
              h('a', { href: `#/dashboards/${encodeURIComponent(d.id!)}` }, d.name),
              h('span', { class: 'muted small' }, ` ${d.panels.length} panel${d.panels.length === 1 ? '' : 's'} · ${rangeLabel(d.range ?? {}, true)}`)))),
      );
    })
    .catch((e: Error) => replace(list, h('p', { class: 'error-text' }, e.message)));
  return { el };
}

// effectiveRange: the dashboard's range when it has one, else the saved query's.
function effectiveRange(d: Range, q: Range | undefined): Range {
  const dr = rangeFields(d);
  return Object.keys(dr).length ? dr : rangeFields(q ?? {});
}

export function dashboardPage(app: App, id: string): Page {
  const charts: ChartView[] = [];
  let dash: Dashboard | null = null;
  let utc = true;
  let disposed = false;
  const grid = h('div', { class: 'dash-grid' });
  const title = h('h1', null, 'Dashboard');
  const updated = h('span', { class: 'muted small' });
  const picker = new TimePicker({}, true, (r, u) => {
    utc = u;
    if (!dash) return;
    dash.range = rangeFields(r);
    void persist();
    draw();
  });
  const el = h(
    'div',
    { class: 'page dashboard' },
    h('div', { class: 'page-head' }, title, updated, h('span', { class: 'spacer' }), picker.el,
      h('button', { type: 'button', class: 'secondary', onclick: () => draw() }, 'Refresh'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void rename() }, 'Rename'),
      h('button', { type: 'button', class: 'secondary danger', onclick: () => void remove() }, 'Delete')),
    grid,
  );

  async function persist(): Promise<void> {
    if (!dash) return;
    try {
      dash = await app.api.updateDashboard(dash.id!, { name: dash.name, range: dash.range, panels: dash.panels });
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  }

  async function rename(): Promise<void> {
    if (!dash) return;
    const name = await promptText('Rename dashboard', 'Name', dash.name);
    if (!name) return;
    dash.name = name;
    title.textContent = name;
    await persist();
  }

  async function remove(): Promise<void> {
    if (!dash || !confirm(`Delete the dashboard “${dash.name}”? Its saved queries stay.`)) return;
    try {
      await app.api.deleteDashboard(dash.id!);
      app.navigate('#/dashboards');
    } catch (e) {
      toast((e as Error).message, 'error');
    }
  }

  function panelView(p: Panel, idx: number, saved: SavedQuery | undefined): HTMLElement {
    const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Running…'));
    const open = saved
      ? h('a', {
          class: 'button secondary small',
          href: encodeState({ query: saved.query, language: saved.language, datasets: saved.datasets ?? [], range: effectiveRange(dash!.range, saved.range), chart: p.chart && p.chart !== 'auto' ? p.chart : saved.chart ?? 'auto', utc }),
        }, 'Open')
      : null;
    const drop = h('button', { type: 'button', class: 'icon', title: 'Remove from the dashboard', 'aria-label': `Remove ${p.title}`, onclick: async () => {
      dash!.panels.splice(idx, 1);
      await persist();
      draw();
    } }, '✕');
    const cell = h('section', { class: 'panel card', 'data-panel': p.savedQueryId, style: `grid-column: span ${Math.min(Math.max(p.w || 6, 3), 12)}` },
      h('div', { class: 'panel-head' }, h('h3', null, p.title || saved?.name || p.savedQueryId), h('span', { class: 'spacer' }), open, drop),
      body);
    if (!saved) {
      replace(body, h('p', { class: 'error-text' }, 'This saved query no longer exists.'));
      return cell;
    }
    const req = { query: saved.query, language: saved.language, ...(saved.datasets?.length ? { datasets: saved.datasets } : {}), ...effectiveRange(dash!.range, saved.range) };
    app.api
      .query(req)
      .then((r: Result) => {
        if (disposed) return;
        const chart = new ChartView('chart panel-chart');
        charts.push(chart);
        const kind = p.chart && p.chart !== 'auto' ? p.chart : saved.chart ?? 'auto';
        replace(body, chart.el);
        const drawn = chart.render(r, kind, utc);
        cell.dataset.chart = drawn;
        if (drawn === 'table') {
          const t = new ResultTable();
          t.render({ ...r, rows: r.rows.slice(0, 50) }, utc);
          body.appendChild(t.el);
        }
        body.appendChild(h('div', { class: 'muted small' }, `${r.rows.length.toLocaleString('en')} rows`));
      })
      .catch((e: Error) => replace(body, h('p', { class: 'error-text' }, e.message)));
    return cell;
  }

  async function draw(): Promise<void> {
    charts.splice(0).forEach((c) => c.dispose());
    if (!dash) return;
    title.textContent = dash.name;
    updated.textContent = dash.updatedAt ? ` updated ${formatTime(dash.updatedAt, utc).slice(0, 16)}${utc ? ' UTC' : ''}` : '';
    if (!dash.panels.length) {
      replace(grid, h('p', { class: 'muted card' }, 'This dashboard is empty. On the Query page, Save a query and pick this dashboard.'));
      return;
    }
    let saved: SavedQuery[] = [];
    try {
      saved = await app.api.savedQueries();
    } catch (e) {
      toast((e as Error).message, 'error');
    }
    const byId = new Map(saved.map((q) => [q.id!, q]));
    const panels = [...dash.panels].map((p, i) => ({ p, i })).sort((a, b) => a.p.y - b.p.y || a.p.x - b.p.x);
    replace(grid, panels.map(({ p, i }) => panelView(p, i, byId.get(p.savedQueryId))));
  }

  app.api
    .dashboard(id)
    .then((d) => {
      dash = d;
      picker.set(d.range ?? {}, utc);
      void draw();
    })
    .catch((e: Error) => replace(grid, h('p', { class: 'error-text' }, e.message)));

  return {
    el,
    dispose: () => {
      disposed = true;
      charts.forEach((c) => c.dispose());
    },
  };
}
