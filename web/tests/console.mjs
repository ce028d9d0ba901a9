// Browser tests of the console: Debian's Chromium driven by playwright-core against a
// running `flowlens serve` (internal/cli TestConsoleBrowser starts one on generated
// data and runs this script). Environment:
//   FLOWLENS_URL     the server (http://127.0.0.1:PORT)
//   FLOWLENS_TOKEN   an API token
//   FLOWLENS_OUT     folder for one screenshot per test (default tests/out)
//   FLOWLENS_DOCS_DIR  where to write the README's screenshots too: console.png, monitoring.png (make screenshots)
//   CHROMIUM         the browser (default /usr/bin/chromium)
// Each test prints "ok NAME" or "FAIL NAME: why"; the exit status is 1 when one failed.

import { mkdirSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.FLOWLENS_URL;
const token = process.env.FLOWLENS_TOKEN;
if (!base || !token) {
  console.error('FLOWLENS_URL and FLOWLENS_TOKEN are required');
  process.exit(2);
}
const out = process.env.FLOWLENS_OUT || new URL('./out', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const timeout = 20_000;

async function api(method, path, body) {
  const resp = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const env = await resp.json();
  return { status: resp.status, env };
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function queryHash(query, extra = '') {
  return `#/query?${new URLSearchParams({ q: query, since: 'all' }).toString()}${extra}`;
}

// A small RFC 4180 reader for the downloaded CSV.
function parseCSV(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, deviceScaleFactor: 1 });
const page = await context.newPage();
page.setDefaultTimeout(timeout);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('console', (m) => {
  // Chromium logs every 4xx answer as a console error; the tests cause some on purpose.
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
});

async function shot(name) {
  const file = join(out, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// runQuery opens the query page on text and runs it; it resolves with the chart drawn.
async function runQuery(query, extra = '') {
  await page.goto(`${base}/${queryHash(query, extra)}`);
  await page.locator('.editor-input').waitFor();
  await page.locator('button.run').click();
  await page.locator('.status-line.done, .status-line.error').first().waitFor();
  const status = await page.locator('.status-line').textContent();
  assert(!(await page.locator('.status-line.error').count()), `the query failed: ${status}`);
  return page.locator('.results-area').getAttribute('data-chart');
}

async function svgPaths(sel) {
  return page.locator(`${sel} svg path`).count();
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('sign in with a token', async () => {
  await page.goto(base + '/');
  await page.locator('#token').fill('flt_not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('This token is not valid').waitFor();
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.top').waitFor();
  assert(!page.url().includes(token), 'the token is in the URL');
  await page.locator('table.datasets tr[data-dataset]').first().waitFor();
  await shot('home');
});

test('the scheduled jobs and their runs on the start page', async () => {
  const { status, env } = await api('POST', '/jobs/retention/run');
  assert(status === 200 && env.data.run.status === 'ok', `retention run: ${status} ${JSON.stringify(env)}`);
  await page.goto(`${base}/#/`);
  await page.locator('table.jobs tr[data-job="retention"]').waitFor();
  const run = page.locator(`table.job-runs tr[data-run="${env.data.run.id}"]`);
  await run.waitFor();
  const text = await run.textContent();
  assert(text.includes('retention') && text.includes('manual') && text.includes('ok'), `the run reads ${text}`);
  await page.locator('table.jobs').scrollIntoViewIfNeeded();
  await shot('jobs');
});

test('a first-run question runs in one click', async () => {
  await page.goto(`${base}/#/`);
  await page.locator('a.question[data-question="top-talkers"]').click();
  await page.locator('.status-line.done').waitFor();
  const chart = await page.locator('.results-area').getAttribute('data-chart');
  assert(chart === 'sankey', `top talkers drew ${chart}, want sankey`);
  assert(!page.url().includes('run=1'), 'the run flag stays in the link');
});

test('a bin() query draws a line chart', async () => {
  const chart = await runQuery('stats count(*) as flows, sum(bytes) as bytes by bin(10m)');
  assert(chart === 'line', `chart ${chart}, want line`);
  const series = await page.locator('.chart').getAttribute('data-series');
  assert(series === '2', `series ${series}, want 2 (flows and bytes)`);
  assert((await svgPaths('.chart')) > 2, 'no lines drawn');
  const rows = await page.locator('table.results tbody tr').count();
  assert(rows > 10, `${rows} table rows`);
  await shot('line');
});

test('traffic over time, stacked by action', async () => {
  const chart = await runQuery('stats sum(bytes) as bytes by bin(15m), action', '&chart=area');
  assert(chart === 'area', `chart ${chart}, want area`);
  assert((await svgPaths('.chart')) > 2, 'no areas drawn');
  await shot('area');
});

test('a src/dst query draws a Sankey diagram', async () => {
  const chart = await runQuery('stats sum(bytes) as bytes by srcAddr, dstAddr | sort bytes desc | limit 15');
  assert(chart === 'sankey', `chart ${chart}, want sankey`);
  assert((await svgPaths('.chart')) >= 15, 'too few Sankey links drawn');
  await shot('sankey');
});

test('a top-N query draws bars; the user can switch to a table', async () => {
  const chart = await runQuery('stats count(*) as flows by dstPort | sort flows desc | limit 10');
  assert(chart === 'bar', `chart ${chart}, want bar`);
  await shot('bar');
  await page.locator('select.chart-select').selectOption('table');
  await page.waitForFunction(() => document.querySelector('.results-area')?.getAttribute('data-chart') === 'table');
  assert(await page.locator('.chart').isHidden(), 'the chart is still shown');
  // Sort by a header click: ascending, then descending.
  const flows = () => page.locator('table.results tbody tr td:nth-child(2)').allTextContents().then((v) => v.map(Number));
  await page.locator('table.results th', { hasText: 'flows' }).click();
  const asc = await flows();
  assert(asc.length === 10 && asc.every((v, i) => i === 0 || asc[i - 1] <= v), `ascending ${asc}`);
  await page.locator('table.results th', { hasText: 'flows' }).click();
  const desc = await flows();
  assert(desc.every((v, i) => i === 0 || desc[i - 1] >= v) && desc[0] > desc[9], `descending ${desc}`);
});

test('the CSV download equals the API rows', async () => {
  const q = 'stats count(*) as flows, sum(bytes) as bytes by srcAddr, dstPort, action | sort flows desc | limit 40';
  await runQuery(q);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
  const csv = parseCSV(readFileSync(await dl.path(), 'utf8'));
  const { status, env } = await api('POST', '/query', { query: q });
  assert(status === 200, `API ${status}`);
  const want = [env.data.columns.map((c) => c.name), ...env.data.rows.map((r) => r.map((v) => (v === null ? '' : String(v))))];
  assert(want.length > 5, `only ${want.length - 1} rows`);
  assert(JSON.stringify(csv) === JSON.stringify(want), `CSV differs:\n${JSON.stringify(csv.slice(0, 3))}\nAPI:\n${JSON.stringify(want.slice(0, 3))}`);
  await shot('csv');
});

test('the JSON download equals the API rows; a cell copies; a column resizes', async () => {
  const q = 'stats count(*) as flows, sum(bytes) as bytes by srcAddr, action | sort bytes desc | limit 25';
  await runQuery(q);
  await page.locator('select.chart-select').selectOption('table');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'JSON' }).click()]);
  const got = JSON.parse(readFileSync(await dl.path(), 'utf8'));
  const { env } = await api('POST', '/query', { query: q });
  const want = env.data.rows.map((r) => Object.fromEntries(env.data.columns.map((c, i) => [c.name, r[i]])));
  assert(want.length > 5 && JSON.stringify(got) === JSON.stringify(want), `JSON differs:\n${JSON.stringify(got.slice(0, 2))}\nAPI:\n${JSON.stringify(want.slice(0, 2))}`);
  // Copy a cell with its hover button.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const cell = page.locator('table.results tbody tr').first().locator('td').first();
  await cell.hover();
  await page.getByRole('button', { name: 'Copy cell' }).click();
  await page.getByText(`Copied ${want[0].srcAddr}`).waitFor();
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  assert(clip === want[0].srcAddr, `clipboard ${JSON.stringify(clip)}, want ${want[0].srcAddr}`);
  // Drag the first header's edge 120 px to the right.
  const th = page.locator('table.results th').first();
  const before = (await th.boundingBox()).width;
  const grip = (await th.locator('.col-resize').boundingBox());
  await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2);
  await page.mouse.down();
  await page.mouse.move(grip.x + grip.width / 2 + 120, grip.y + grip.height / 2, { steps: 6 });
  await page.mouse.up();
  const after = (await th.boundingBox()).width;
  assert(after > before + 80, `column ${before} px → ${after} px`);
  assert((await page.locator('table.results th[aria-sort="none"]').count()) === env.data.columns.length, 'the resize drag sorted the table');
  await shot('table');
});

test('a relative range goes to the server as such; local time shifts the times shown', async () => {
  // A browser in India (UTC+05:30), signed in afresh.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Kolkata' });
  const tab = await ctx.newPage();
  tab.setDefaultTimeout(timeout);
  try {
    const q = 'fields @timestamp, srcAddr | sort @timestamp asc | limit 5';
    await tab.goto(`${base}/${queryHash(q)}`);
    await tab.locator('#token').fill(token);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.locator('.editor-input').waitFor();
    await tab.locator('button.run').click();
    await tab.locator('.status-line.done').waitFor();
    const utcFirst = await tab.locator('table.results tbody tr td:first-child').first().textContent();
    await tab.getByRole('group', { name: 'Time zone' }).getByRole('button', { name: 'Local' }).click();
    await tab.waitForFunction((v) => document.querySelector('table.results tbody tr td')?.textContent !== v, utcFirst);
    const localFirst = await tab.locator('table.results tbody tr td:first-child').first().textContent();
    const ms = (s) => Date.parse(s.replace(' ', 'T') + 'Z');
    assert(ms(localFirst) - ms(utcFirst) === 5.5 * 3600e3, `UTC ${utcFirst}, local ${localFirst}`);
    // A relative range: "3 hours" is sent as since=3h (the demo day is long past: no rows).
    await tab.getByRole('button', { name: 'Time range' }).click();
    await tab.locator('.popover button.chip', { hasText: /^3h$/ }).click();
    const [req] = await Promise.all([
      tab.waitForRequest((r) => r.url().endsWith('/api/v1/queries') && r.method() === 'POST'),
      tab.locator('button.run').click(),
    ]);
    const body = JSON.parse(req.postData());
    assert(body.since === '3h' && !body.start && !body.end, `request ${req.postData()}`);
    await tab.locator('.status-line.done').waitFor();
    // Which rows fall in the last 3 hours depends on the time of day (the monitoring tests ingest
    // a day dated yesterday), so only the answer's arrival is checked here; the request above is the point.
    assert(/^Complete/.test(await tab.locator('.status-line').textContent()), 'the relative range query did not complete');
    assert(!(await tab.evaluate(() => location.href)).includes(token), 'the token is in the URL');
    await tab.screenshot({ path: join(out, 'timezone.png') });
  } finally {
    await ctx.close();
  }
});

test('a running query shows the rows and statistics of the slices done', async () => {
  // The demo day is small: a bin() query finishes between two polls. The server's
  // answers are held back: the first poll gets the first third of the real rows as a
  // Running status with progress (what the server sends between slices, see
  // internal/cli TestAsyncPartialResults), the next waits until the page was checked.
  let polls = 0;
  let release;
  const gate = new Promise((r) => (release = r));
  let partialRows = 0;
  let allRows = 0;
  await page.route(/\/api\/v1\/queries\/q-[0-9a-f]+$/, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    polls++;
    if (polls > 1) {
      await gate;
      return route.continue();
    }
    // The first poll: the real answer once the query is Complete, cut to a third.
    const path = new URL(route.request().url()).pathname.replace('/api/v1', '');
    let st;
    for (;;) {
      st = (await api('GET', path)).env.data;
      if (st.status === 'Complete') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    allRows = st.rows.length;
    partialRows = Math.floor(allRows / 3);
    const data = { ...st, status: 'Running', partial: true, rows: st.rows.slice(0, partialRows),
      statistics: { ...st.statistics, recordsScanned: Math.floor(st.statistics.recordsScanned / 3), recordsMatched: Math.floor(st.statistics.recordsMatched / 3) },
      progress: { slicesDone: 3, slices: 8, start: '2026-01-15T15:00:00Z', end: '2026-01-15T23:59:59Z' } };
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ status: 'ok', data }) });
  });
  try {
    await page.goto(`${base}/${queryHash('stats count(*) as flows by bin(10m)', '&ds=demo')}`);
    await page.locator('button.run').click();
    await page.locator('.status-line[data-partial="true"]').waitFor();
    const line = await page.locator('.status-line').textContent();
    assert(/^Running · [\d.,]+( [kM])? records scanned · .*3 of 8 time slices \(2026-01-15 15:00:00 → 2026-01-15 23:59:59\) · /.test(line) && line.includes(` · ${partialRows} rows so far · `), `status line ${line}`);
    assert((await page.locator('table.results tbody tr').count()) === partialRows, 'the table does not hold the rows so far');
    assert((await page.locator('.results-area').getAttribute('data-chart')) === 'line', 'no line chart of the rows so far');
    assert((await page.locator('button.run.stop').count()) === 1, 'the Stop button is gone while it runs');
    const bar = page.getByRole('progressbar', { name: 'Query progress' });
    assert((await bar.getAttribute('aria-valuenow')) === '3' && (await bar.getAttribute('aria-valuemax')) === '8', 'the progress bar is not at 3 of 8');
    await shot('partial');
    release();
    await page.locator('.status-line.done').waitFor();
    assert((await page.locator('table.results tbody tr').count()) === allRows, 'the final rows are not shown');
    assert(await bar.isHidden(), 'the progress bar stays after Complete');
  } finally {
    release();
    await page.unroute(/\/api\/v1\/queries\/q-[0-9a-f]+$/);
  }
});

test('save a query to a new dashboard and reopen it', async () => {
  const name = `Flows per 10 minutes ${Date.now()}`;
  await runQuery('stats count(*) as flows by bin(10m)');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Save query' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Add to dashboard').selectOption('*new');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const second = page.getByRole('dialog', { name: 'New dashboard' });
  await second.getByLabel('Name of the new dashboard').fill(`Board ${name}`);
  await second.getByRole('button', { name: 'OK' }).click();
  await page.getByText(`added it to “Board ${name}”`).waitFor();
  // Reopen: the dashboards list, then the dashboard after a reload.
  await page.goto(`${base}/#/dashboards`);
  await page.getByRole('link', { name: `Board ${name}` }).click();
  await page.waitForURL(/#\/dashboards\/.+/);
  await page.reload();
  const panel = page.locator('.panel[data-chart]');
  await panel.waitFor();
  assert((await panel.getAttribute('data-chart')) === 'line', `panel chart ${await panel.getAttribute('data-chart')}`);
  assert((await page.locator('.panel h3').textContent()) === name, 'panel title');
  assert((await svgPaths('.panel')) > 1, 'the panel drew nothing');
  const { env } = await api('GET', '/dashboards');
  const d = env.data.find((x) => x.name === `Board ${name}`);
  assert(d && d.panels.length === 1, 'the API does not list the dashboard with its panel');
  await shot('dashboard');
  // Open the panel's query in the editor.
  await page.locator('.panel').getByRole('link', { name: 'Open' }).click();
  await page.locator('.editor-input').waitFor();
  assert((await page.locator('.editor-input').inputValue()) === 'stats count(*) as flows by bin(10m)', 'the editor does not hold the saved query');
});

test('an error is underlined at the position the API gives', async () => {
  const q = 'filter action = "REJECT"\n| stats count(* by srcAddr';
  await page.goto(`${base}/${queryHash(q)}`);
  await page.locator('button.run').click();
  await page.locator('.editor-hl .err').first().waitFor();
  const { status, env } = await api('POST', '/query', { query: q });
  assert(status === 400 && env.error.position, `API ${status}`);
  const p = env.error.position;
  const underlined = (await page.locator('.editor-hl .err').allTextContents()).join('');
  const want = q.slice(p.offset, Math.max(p.end, p.offset + 1));
  assert(underlined === want, `underlined ${JSON.stringify(underlined)}, want ${JSON.stringify(want)} (offset ${p.offset})`);
  const msg = await page.locator('.editor-msg').textContent();
  assert(msg.startsWith(`${p.line}:${p.column}: `), `message ${msg}`);
  // The underline sits on the second line, under the token (the highlight layer and
  // the textarea share their geometry).
  const err = await page.locator('.editor-hl .err').first().boundingBox();
  const box = await page.locator('.editor-input').boundingBox();
  assert(err && box && err.y > box.y + 15 && err.x > box.x + 50, `underline at ${JSON.stringify(err)} in ${JSON.stringify(box)}`);
  await shot('error');
  // Fixing the text clears the underline.
  await page.locator('.editor-input').press('End');
  await page.locator('.editor-input').type(')');
  await page.waitForFunction(() => !document.querySelector('.editor-hl .err'));
});

test('completion offers commands, functions and the dataset fields', async () => {
  await page.goto(`${base}/${queryHash('')}`);
  const ed = page.locator('.editor-input');
  await ed.waitFor();
  await ed.fill('');
  await ed.type('sta');
  await page.locator('.completion li', { hasText: 'stats' }).first().waitFor();
  await ed.press('Enter');
  await ed.type('count_d');
  await page.locator('.completion li', { hasText: 'count_distinct' }).first().waitFor();
  await ed.press('Tab');
  await ed.type('dstA');
  await page.locator('.completion li', { hasText: 'dstAddr' }).first().waitFor();
  await ed.press('Enter');
  assert((await ed.inputValue()) === 'stats count_distinct(dstAddr', `editor holds ${await ed.inputValue()}`);
  const cmd = await page.locator('.editor-hl .tok-command').first().textContent();
  assert(cmd === 'stats', `highlighted command ${cmd}`);
  await shot('completion');
});

test('SQL: a Sankey from address columns, an error underlined', async () => {
  const q = 'SELECT srcaddr, dstaddr, sum(bytes) AS bytes FROM flows GROUP BY srcaddr, dstaddr ORDER BY bytes DESC LIMIT 10';
  const chart = await runQuery(q, '&lang=sql');
  assert(chart === 'sankey', `SQL chart ${chart}, want sankey`);
  assert((await page.locator('.segmented .seg.on[data-language="sql"]').count()) === 1, 'SQL is not the selected language');
  const bad = "SELECT count(*) FROM flows WHERE action = 'REJECT";
  await page.goto(`${base}/#/query?${new URLSearchParams({ q: bad, lang: 'sql', since: 'all' })}`);
  await page.locator('button.run').click();
  await page.locator('.editor-hl .err').first().waitFor();
  const { env } = await api('POST', '/query', { query: bad, language: 'sql' });
  const p = env.error.position;
  assert(p, `the API gave no position: ${JSON.stringify(env.error)}`);
  const underlined = (await page.locator('.editor-hl .err').allTextContents()).join('');
  assert(underlined === bad.slice(p.offset, Math.max(p.end, p.offset + 1)), `underlined ${JSON.stringify(underlined)} at ${p.offset}`);
  await shot('sql');
});

test('a shared link keeps the query, datasets, time range and chart', async () => {
  const q = 'stats count(*) as flows by dstPort | sort flows desc | limit 5';
  await page.goto(`${base}/${queryHash(q)}`);
  await page.getByRole('button', { name: 'Datasets' }).click();
  await page.locator('.dataset-picker input[value="demo"]').check();
  await page.getByRole('button', { name: 'Time range' }).click();
  await page.getByLabel('Start').fill('2026-01-15T12:00');
  await page.getByLabel('End').fill('2026-01-15T13:00');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('button.run').click();
  await page.locator('.status-line.done').waitFor();
  await page.locator('select.chart-select').selectOption('table');
  const { env } = await api('POST', '/query', { query: q, datasets: ['demo'], start: '2026-01-15T12:00:00Z', end: '2026-01-15T13:00:00Z' });
  const want = env.data.rows.map((r) => String(r[0]));
  const got = await page.locator('table.results tbody tr td:first-child').allTextContents();
  assert(want.length > 0 && JSON.stringify(got) === JSON.stringify(want), `table ${got}, API ${want}`);
  await page.getByRole('button', { name: 'Share link' }).click();
  const link = await page.locator('input.share-link').inputValue();
  assert(!link.includes(token), 'the token is in the link');
  await page.keyboard.press('Escape');
  // A new tab has no session: it signs in first, then opens the same question.
  const other = await context.newPage();
  other.setDefaultTimeout(timeout);
  await other.goto(link);
  await other.locator('#token').fill(token);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await other.locator('.editor-input').waitFor();
  assert((await other.locator('.editor-input').inputValue()) === q, 'the query is not in the link');
  const range = await other.getByRole('button', { name: 'Time range' }).textContent();
  assert(range.includes('2026-01-15 12:00:00 → 2026-01-15 13:00:00'), `time range ${range}`);
  assert((await other.getByRole('button', { name: 'Datasets' }).textContent()).startsWith('demo'), 'the dataset is not in the link');
  await other.locator('button.run').click();
  await other.locator('.status-line.done').waitFor();
  assert((await other.locator('.results-area').getAttribute('data-chart')) === 'table', 'the chart is not in the link');
  const again = await other.locator('table.results tbody tr td:first-child').allTextContents();
  assert(JSON.stringify(again) === JSON.stringify(want), `reopened table ${again}`);
  await other.close();
});

test('a dashboard of the use cases (the README screenshot)', async () => {
  const panels = [
    ['Flows over time by action', 'stats count(*) as flows by bin(15m), action', 'line'],
    ['Top talkers', 'filter logStatus = "OK" | stats sum(bytes) as bytes by srcAddr, dstAddr | sort bytes desc | limit 12', 'auto'],
    ['Rejected flows by destination port', 'filter action = "REJECT" | stats count(*) as rejects by dstPort | sort rejects desc | limit 10', 'auto'],
    ['SSH and RDP attempts', 'filter dstPort = 22 or dstPort = 3389 | stats count(*) as attempts by srcAddr, dstPort | sort attempts desc | limit 8', 'table'],
  ];
  const ids = [];
  for (const [name, query, chart] of panels) {
    const { status, env } = await api('POST', '/saved-queries', { name, query, language: 'insights', datasets: ['demo'], range: {}, chart });
    assert(status === 200, `save ${name}: ${status} ${JSON.stringify(env.error)}`);
    ids.push(env.data.id);
  }
  const { env } = await api('POST', '/dashboards', {
    name: 'Network overview',
    range: {},
    panels: ids.map((id, i) => ({ savedQueryId: id, title: panels[i][0], chart: panels[i][2], x: (i % 2) * 6, y: Math.floor(i / 2) * 4, w: 6, h: 4 })),
  });
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`${base}/#/dashboards/${encodeURIComponent(env.data.id)}`);
  await page.waitForFunction(() => document.querySelectorAll('.panel[data-chart]').length === 4);
  const kinds = await page.locator('.panel').evaluateAll((els) => els.map((e) => e.getAttribute('data-chart')));
  assert(JSON.stringify(kinds) === JSON.stringify(['line', 'sankey', 'bar', 'table']), `panels drew ${kinds}`);
  const file = await shot('console');
  if (process.env.FLOWLENS_DOCS_DIR) copyFileSync(file, join(process.env.FLOWLENS_DOCS_DIR, 'console.png'));
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('history and saved queries reopen in the editor', async () => {
  await page.goto(`${base}/#/query`);
  await page.getByRole('button', { name: 'History & saved' }).click();
  const hist = page.locator('.side ul.history li button.link').first();
  await hist.waitFor();
  const { env } = await api('GET', '/history?limit=1');
  const last = env.data[0].query;
  assert((await hist.getAttribute('title')) === last, `newest history entry ${await hist.getAttribute('title')}, API ${last}`);
  await hist.click();
  assert((await page.locator('.editor-input').inputValue()) === last, 'the history entry did not open');
  const saved = page.locator('.side ul.saved li button.link', { hasText: 'Top talkers' }).first();
  await saved.click();
  assert((await page.locator('.editor-input').inputValue()).includes('by srcAddr, dstAddr'), 'the saved query did not open');
  await shot('history');
});

test('metrics charted per filter, alarms with their state and history', async () => {
  // TestConsoleBrowser made a metric filter and an alarm on yesterday's dataset "recent"
  // and ingested it through the server; the alarm treats missing data as breaching, and
  // the current periods have none: it goes to ALARM at its first evaluation.
  const deadline = Date.now() + timeout;
  for (;;) {
    const { env } = await api('GET', '/alarms/ssh-rdp-watch');
    if (env.data?.state?.stateValue === 'ALARM') break;
    assert(Date.now() < deadline, `the alarm stays ${JSON.stringify(env.data?.state)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.goto(`${base}/#/monitoring`);
  const row = page.locator('table.alarms tr[data-alarm="ssh-rdp-watch"]');
  await row.waitFor();
  assert((await row.locator('.state').getAttribute('data-state')) === 'ALARM', 'the alarm is not shown in ALARM');
  assert((await row.textContent()).includes('Sum ≥ 5 in 1 of 1 × 5 min'), `the rule reads ${await row.textContent()}`);
  await page.getByRole('button', { name: 'History of ssh-rdp-watch' }).click();
  const item = page.locator('tr[data-history="ssh-rdp-watch"] tr[data-type="StateUpdate"]').first();
  await item.waitFor();
  const { env: hist } = await api('GET', '/alarms/ssh-rdp-watch/history');
  assert((await item.textContent()).includes(hist.data.alarmHistoryItems[0].reason), 'the newest history item is not shown first');
  assert((await item.locator('.state').allTextContents()).join(' → ') === 'INSUFFICIENT DATA → ALARM', 'the change is not INSUFFICIENT DATA → ALARM');
  // The filter's metric: a line per 5 minutes (the alarm's period) with the threshold,
  // its sum equal to the records a query of the same condition counts.
  const card = page.locator('.metric[data-filter="recent/SSHRDP"]');
  await card.locator('.chart[data-points]').waitFor();
  assert((await card.locator('.chart').getAttribute('data-chart')) === 'line', 'the metric is not a line chart');
  assert((await card.locator('svg path').count()) > 2, 'no line drawn');
  assert((await card.locator('svg text', { hasText: 'ssh-rdp-watch ≥ 5' }).count()) === 1, 'no threshold line');
  const { env: q } = await api('POST', '/query', { query: 'filter dstPort = 22 or dstPort = 3389 | stats count(*) as n', datasets: ['recent'] });
  const n = q.data.rows[0][0];
  const note = await card.locator('.metric-note').textContent();
  assert(n > 0 && note.startsWith(`Sum ${n.toLocaleString('en')} in `), `the chart says "${note}", the query counts ${n}`);
  await page.setViewportSize({ width: 1280, height: 760 });
  const file = join(out, 'monitoring.png');
  await page.screenshot({ path: file });
  if (process.env.FLOWLENS_DOCS_DIR) copyFileSync(file, join(process.env.FLOWLENS_DOCS_DIR, 'monitoring.png'));
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('the start page shows what the Firehose endpoint stored and the S3 follower', async () => {
  const line = '2 111122223333 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1768478400 1768478460 ACCEPT OK';
  const id = `console-${Date.now()}`;
  const resp = await fetch(`${base}/firehose`, {
    method: 'POST',
    headers: {
      'X-Amz-Firehose-Access-Key': token,
      'X-Amz-Firehose-Request-Id': id,
      'X-Amz-Firehose-Common-Attributes': JSON.stringify({ commonAttributes: { dataset: 'demo' } }),
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ requestId: id, timestamp: Date.now(), records: [{ data: Buffer.from(line).toString('base64') }] }),
  });
  assert(resp.status === 200, `firehose ${resp.status} ${await resp.text()}`);
  await page.goto(`${base}/#/`);
  const fh = page.locator('[data-ingest="firehose"]');
  await fh.waitFor();
  assert((await fh.locator('tr[data-counter="records"] td').textContent()) === '1', 'records stored is not 1');
  assert((await fh.locator('tr[data-counter="requests"] td').textContent()) === '1', 'requests is not 1');
  assert(!/never/.test(await fh.locator('tr[data-counter="lastDelivery"] td').textContent()), 'no last delivery');
  // The S3 follower (TestConsoleBrowser follows a bucket of a fake S3 server).
  const row = page.locator('[data-ingest="s3"] table[data-list="prefixes"] tbody tr', { hasText: 's3://vpc/flowlogs/' });
  await row.waitFor();
  const { env: s3 } = await api('GET', '/ingest/s3');
  const p = (s3.data ?? s3).prefixes[0];
  const cells = await row.locator('td').allTextContents();
  assert(cells.includes('s3flow') && cells.includes(p.records.toLocaleString('en')) && p.records === 2000, `the S3 row reads ${cells}`);
  assert(cells.includes(p.objects.toLocaleString('en')), `objects ${p.objects} not in ${cells}`);
  await page.locator('section', { has: page.locator('[data-ingest]') }).screenshot({ path: join(out, 'ingest.png') });
});

test('stop a running query', async () => {
  // A query over every record, stopped at once: the status ends Stopped or Complete
  // (a fast machine may finish first), never as an error.
  await page.goto(`${base}/${queryHash('stats count_distinct(srcPort) as p by srcAddr, dstAddr, dstPort | sort p desc')}`);
  await page.locator('button.run').click();
  await page.locator('button.run.stop').click().catch(() => {});
  await page.waitForFunction(() => /^(Stopped|Complete|Timed out|Error)/.test(document.querySelector('.status-line')?.textContent ?? ''));
  const s = await page.locator('.status-line').textContent();
  assert(/^(Stopped|Complete)/.test(s), `status ${s}`);
});

let failed = 0;
for (const t of tests) {
  const t0 = Date.now();
  pageErrors.length = 0;
  try {
    await t.fn();
    assert(!pageErrors.length, `errors in the page: ${pageErrors.join('; ')}`);
    console.log(`ok ${t.name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}: ${e.message}`);
    await shot(`FAIL-${tests.indexOf(t)}`).catch(() => {});
  }
}
await browser.close();
process.exit(failed ? 1 : 0);
