// The login page: an API token from `flowlens tokens create`, checked with GET /whoami.

import { Api, ApiError } from '../api';
import { setToken } from '../auth';
import { h } from '../dom';
import type { Page } from '../app';

export function loginPage(onLogin: (name: string) => void, reason?: string): Page {
  const token = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'current-password',
    placeholder: 'fl_…',
    'aria-label': 'API token',
    class: 'wide',
  });
  const remember = h('input', { type: 'checkbox', id: 'remember' });
  const err = h('div', { class: 'error-text', role: 'alert' }, reason ?? '');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'login card',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const t = token.value.trim();
        if (!t) {
          err.textContent = 'Paste an API token.';
          return;
        }
        button.disabled = true;
        err.textContent = '';
        try {
          const me = await new Api(() => t, () => {}).whoami();
          setToken(t, remember.checked);
          onLogin(me.name);
        } catch (ex) {
          err.textContent =
            ex instanceof ApiError && ex.status === 401 ? 'This token is not valid (or has been revoked).' : (ex as Error).message;
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', null, h('span', { class: 'logo' }, '◆'), ' flowlens'),
    h('p', { class: 'muted' }, 'VPC Flow Logs, queried with Logs Insights or SQL.'),
    h('label', { for: 'token' }, 'API token'),
    token,
    h('label', { class: 'check' }, remember, ' Remember me on this computer'),
    err,
    button,
    h('p', { class: 'muted small' }, 'Create a token on the server with ', h('code', null, 'flowlens tokens create --data DIR'), '.'),
  );
  return { el: h('div', { class: 'login-page' }, form) };
}
