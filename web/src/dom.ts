// A few DOM helpers: h() builds elements, the rest are small conveniences.

type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, unknown>;

// h creates an element. Attributes: "class", "style" (string), on<event> handlers,
// value/checked/disabled/selected as properties, anything else as an attribute.
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v as EventListener);
      } else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') {
        (el as unknown as Record<string, unknown>)[k] = v;
      } else if (k === 'class') {
        el.className = String(v);
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: (Child | Child[])[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c === null || c === undefined || c === false) continue;
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

// clear removes every child of el and appends the given ones.
export function replace(el: Node, ...children: (Child | Child[])[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

// toast shows a short message at the bottom of the window.
export function toast(msg: string, kind: 'info' | 'error' = 'info'): void {
  const t = h('div', { class: `toast toast-${kind}`, role: 'status' }, msg);
  document.body.appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 6000 : 2500);
}

// copyText puts text on the clipboard, with a fallback for browsers without the API.
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // fall through
  }
  const ta = h('textarea', { style: 'position:fixed;left:-1000px;top:0' });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  document.execCommand('copy');
  ta.remove();
}

// download offers text as a file.
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, style: 'display:none' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// modal shows a dialog with the given body; it resolves with what done() is given,
// or null when the dialog is dismissed.
export function modal<T>(title: string, build: (done: (v: T | null) => void) => Node): Promise<T | null> {
  return new Promise((resolve) => {
    const back = h('div', { class: 'modal-back' });
    const close = (v: T | null) => {
      back.remove();
      document.removeEventListener('keydown', onKey);
      resolve(v);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close(null);
    };
    document.addEventListener('keydown', onKey);
    back.addEventListener('mousedown', (e) => {
      if (e.target === back) close(null);
    });
    back.appendChild(h('div', { class: 'modal', role: 'dialog', 'aria-label': title }, h('h2', null, title), build(close)));
    document.body.appendChild(back);
    const first = back.querySelector<HTMLElement>('input, select, textarea, button');
    first?.focus();
  });
}

// prompt asks for one line of text.
export function promptText(title: string, label: string, initial = '', placeholder = ''): Promise<string | null> {
  return modal<string>(title, (done) => {
    const input = h('input', { type: 'text', value: initial, placeholder, 'aria-label': label, class: 'wide' });
    const form = h(
      'form',
      {
        onsubmit: (e: Event) => {
          e.preventDefault();
          const v = input.value.trim();
          if (v) done(v);
        },
      },
      h('label', null, label, input),
      h('div', { class: 'modal-buttons' },
        h('button', { type: 'button', class: 'secondary', onclick: () => done(null) }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'OK')),
    );
    return form;
  });
}
