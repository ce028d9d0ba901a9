// The console's entry point: sign-in, the header with navigation, and a hash router
// (#/, #/query?…, #/dashboards, #/dashboards/ID, #/monitoring). Routes live in the fragment so
// that the server only ever serves index.html and links keep working.

import './style.css';
import { Api, type Dataset, type LanguageInfo } from './api';
import type { App, Page } from './app';
import { clearToken, getToken } from './auth';
import { h, replace } from './dom';
import { route } from './link';
import { dashboardPage, dashboardsPage } from './views/dashboards';
import { homePage } from './views/home';
import { loginPage } from './views/login';
import { monitoringPage } from './views/monitoring';
import { queryPage } from './views/query';

const root = document.getElementById('app')!;
let current: Page | null = null;
let languageCache: Promise<LanguageInfo> | null = null;
let datasetsCache: Promise<Dataset[]> | null = null;
let who = '';

const api = new Api(getToken, () => {
  clearToken();
  showLogin('Your token is no longer accepted: sign in again.');
});

const app: App = {
  api,
  navigate(hash: string) {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  language() {
    languageCache ??= api.language().catch((e) => {
      languageCache = null;
      throw e;
    });
    return languageCache;
  },
  datasets(refresh = false) {
    if (refresh || !datasetsCache) {
      datasetsCache = api.datasets().catch((e) => {
        datasetsCache = null;
        throw e;
      });
    }
    return datasetsCache;
  },
};

function mount(page: Page): void {
  current?.dispose?.();
  current = page;
  replace(root, page.el);
}

function showLogin(reason?: string): void {
  document.body.classList.add('signed-out');
  mount(
    loginPage((name) => {
      who = name;
      document.body.classList.remove('signed-out');
      render();
    }, reason),
  );
}

function header(path: string): HTMLElement {
  const link = (href: string, label: string, active: boolean) =>
    h('a', { href, class: active ? 'nav on' : 'nav', 'aria-current': active ? 'page' : false }, label);
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/' }, h('span', { class: 'logo' }, '◆'), ' flowlens'),
    h(
      'nav',
      null,
      link('#/', 'Start', path === '/'),
      link('#/query', 'Query', path === '/query'),
      link('#/dashboards', 'Dashboards', path.startsWith('/dashboards')),
      link('#/monitoring', 'Metrics & alarms', path === '/monitoring'),
    ),
    h('span', { class: 'spacer' }),
    h('span', { class: 'muted small whoami' }, who),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        onclick: () => {
          clearToken();
          who = '';
          showLogin();
        },
      },
      'Sign out',
    ),
  );
}

function render(): void {
  if (!getToken()) {
    showLogin();
    return;
  }
  const { path, params } = route(location.hash);
  let page: Page;
  if (path === '/query') page = queryPage(app, params);
  else if (path === '/dashboards') page = dashboardsPage(app);
  else if (path === '/monitoring') page = monitoringPage(app);
  else if (path.startsWith('/dashboards/')) page = dashboardPage(app, decodeURIComponent(path.slice('/dashboards/'.length)));
  else page = homePage(app);
  const shell = h('div', { class: 'shell' }, header(path), h('main', null, page.el));
  mount({ el: shell, dispose: page.dispose });
}

window.addEventListener('hashchange', render);
if (getToken()) {
  api
    .whoami()
    .then((me) => {
      who = me.name;
      render();
    })
    .catch(() => {
      if (getToken()) render();
    });
} else {
  showLogin();
}
