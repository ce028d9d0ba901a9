// The query editor: a textarea over a highlighted copy of its text, with completion
// of commands, functions, keywords and fields, and the compiler's error underlined.

import type { Field, Language, LanguageInfo, Position } from './api';
import { h, replace } from './dom';
import { byteToIndex } from './format';
import { defaultInsights, sqlKeywords, tokenizeInsights, tokenizeSQL, type Token, type Vocabulary } from './syntax';

interface Item {
  label: string;
  kind: 'command' | 'function' | 'keyword' | 'field';
  detail: string;
  insert: string;
}

export interface EditorOptions {
  onRun: () => void;
  onChange: (text: string) => void;
}

export class Editor {
  readonly el: HTMLDivElement;
  readonly input: HTMLTextAreaElement;
  private readonly hl: HTMLPreElement;
  private readonly list: HTMLUListElement;
  private readonly msg: HTMLDivElement;
  private language: Language = 'insights';
  private vocab: Vocabulary = defaultInsights;
  private functions: LanguageInfo['functions'] = [];
  private fields: Field[] = [];
  private err: { start: number; end: number; message: string } | null = null;
  private items: Item[] = [];
  private active = 0;
  private wordStart = 0;

  constructor(private readonly opts: EditorOptions) {
    this.hl = h('pre', { class: 'editor-hl', 'aria-hidden': 'true' });
    this.input = h('textarea', {
      class: 'editor-input',
      spellcheck: 'false',
      autocomplete: 'off',
      autocapitalize: 'off',
      'aria-label': 'Query',
      'aria-autocomplete': 'list',
      rows: 4,
    });
    this.list = h('ul', { class: 'completion', role: 'listbox', hidden: true });
    this.msg = h('div', { class: 'editor-msg', role: 'alert' });
    this.el = h('div', { class: 'editor-wrap' }, h('div', { class: 'editor' }, this.hl, this.input, this.list), this.msg);

    this.input.addEventListener('input', () => {
      this.err = null;
      this.msg.textContent = '';
      this.render();
      this.complete(false);
      this.opts.onChange(this.input.value);
    });
    this.input.addEventListener('scroll', () => {
      this.hl.scrollTop = this.input.scrollTop;
      this.hl.scrollLeft = this.input.scrollLeft;
    });
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    this.input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    this.input.addEventListener('click', () => this.close());
    new ResizeObserver(() => {
      this.hl.style.height = `${this.input.offsetHeight}px`;
    }).observe(this.input);
    this.render();
  }

  get value(): string {
    return this.input.value;
  }

  set value(v: string) {
    this.input.value = v;
    this.err = null;
    this.msg.textContent = '';
    this.render();
  }

  setLanguage(lang: Language): void {
    this.language = lang;
    this.input.setAttribute('data-language', lang);
    this.render();
  }

  setLanguageInfo(info: LanguageInfo): void {
    this.vocab = {
      commands: new Set(info.commands),
      functions: new Set(info.functions.map((f) => f.name)),
      keywords: new Set(info.keywords.map((k) => k.toLowerCase())),
    };
    this.functions = info.functions;
    this.render();
  }

  setFields(fields: Field[]): void {
    this.fields = fields;
  }

  // setError underlines [offset, end) (byte offsets into the query, as the server
  // reports them) and shows the message under the editor; null clears it.
  setError(pos: Position | null | undefined, message: string | null): void {
    if (!message) {
      this.err = null;
      this.msg.textContent = '';
    } else if (pos && typeof pos.offset === 'number') {
      const text = this.input.value;
      const start = byteToIndex(text, pos.offset);
      const end = Math.max(byteToIndex(text, pos.end ?? pos.offset), start);
      this.err = { start, end, message };
      const where = `${pos.line}:${pos.column}: `;
      this.msg.textContent = message.startsWith(where) ? message : where + message;
    } else {
      this.err = null;
      this.msg.textContent = message;
    }
    this.render();
  }

  focus(): void {
    this.input.focus();
  }

  private tokens(): Token[] {
    return this.language === 'sql' ? tokenizeSQL(this.input.value) : tokenizeInsights(this.input.value, this.vocab);
  }

  // render redraws the highlighted copy: one span per token, split where the error
  // range begins and ends, and a marker at the caret (used to place the completion list).
  private render(): void {
    const text = this.input.value;
    const caret = this.input.selectionStart ?? text.length;
    const e = this.err;
    const cuts = new Set<number>([caret]);
    if (e) {
      cuts.add(e.start);
      cuts.add(e.end);
    }
    const nodes: Node[] = [];
    for (const t of this.tokens()) {
      let s = t.start;
      const bounds = [...cuts].filter((c) => c > t.start && c < t.end).sort((a, b) => a - b);
      for (const b of [...bounds, t.end]) {
        if (s === caret) nodes.push(h('span', { class: 'caret-mark' }));
        const inErr = e !== null && s >= e.start && s < Math.max(e.end, e.start + 1);
        nodes.push(h('span', { class: `tok-${t.kind}${inErr ? ' err' : ''}` }, text.slice(s, b)));
        s = b;
      }
    }
    if (caret >= text.length) nodes.push(h('span', { class: 'caret-mark' }));
    if (e && e.start >= text.length) nodes.push(h('span', { class: 'err err-end', title: e.message }, ' '));
    nodes.push(document.createTextNode('\n'));
    replace(this.hl, nodes);
    if (e) this.hl.querySelectorAll('.err').forEach((n) => n.setAttribute('title', e.message));
  }

  private wordBefore(): { start: number; word: string } {
    const text = this.input.value;
    const end = this.input.selectionStart ?? text.length;
    const re = this.language === 'sql' ? /[A-Za-z0-9_]/ : /[A-Za-z0-9_@.\-]/;
    let s = end;
    while (s > 0 && re.test(text[s - 1])) s--;
    return { start: s, word: text.slice(s, end) };
  }

  private candidates(word: string, start: number): Item[] {
    const text = this.input.value;
    const items: Item[] = [];
    if (this.language === 'insights') {
      let k = start - 1;
      while (k >= 0 && /\s/.test(text[k])) k--;
      if (k < 0 || text[k] === '|') {
        for (const c of this.vocab.commands) items.push({ label: c, kind: 'command', detail: 'command', insert: `${c} ` });
        return filter(items, word);
      }
      for (const f of this.functions.length ? this.functions : [...this.vocab.functions].map((n) => ({ name: n, signature: `${n}()`, kind: 'function' }))) {
        items.push({ label: f.name, kind: 'function', detail: f.signature || f.kind, insert: `${f.name}(` });
      }
      for (const kw of this.vocab.keywords) items.push({ label: kw, kind: 'keyword', detail: 'keyword', insert: `${kw} ` });
      for (const f of this.fields) items.push({ label: f.name, kind: 'field', detail: f.type, insert: f.name });
    } else {
      for (const kw of sqlKeywords) items.push({ label: kw.toUpperCase(), kind: 'keyword', detail: 'keyword', insert: `${kw.toUpperCase()} ` });
      const seen = new Set<string>();
      for (const f of this.fields) {
        if (f.name.startsWith('@') || seen.has(f.column)) continue;
        seen.add(f.column);
        items.push({ label: f.column, kind: 'field', detail: f.type, insert: f.column });
      }
      if (!seen.has('flows')) items.push({ label: 'flows', kind: 'field', detail: 'table', insert: 'flows' });
    }
    return filter(items, word);
  }

  // complete opens the list for the word before the caret; forced (Ctrl+Space) opens
  // it even for an empty word.
  private complete(forced: boolean): void {
    const { start, word } = this.wordBefore();
    if (!forced && word.length === 0) {
      this.close();
      return;
    }
    const items = this.candidates(word, start);
    if (!items.length || (items.length === 1 && items[0].label === word)) {
      this.close();
      return;
    }
    this.items = items;
    this.wordStart = start;
    this.active = 0;
    this.render();
    this.drawList();
  }

  private drawList(): void {
    replace(
      this.list,
      this.items.map((it, i) =>
        h(
          'li',
          {
            role: 'option',
            class: `${i === this.active ? 'active ' : ''}kind-${it.kind}`,
            'aria-selected': i === this.active ? 'true' : 'false',
            onmousedown: (e: Event) => {
              e.preventDefault();
              this.accept(i);
            },
          },
          h('span', { class: 'c-label' }, it.label),
          h('span', { class: 'c-detail' }, it.detail),
        ),
      ),
    );
    const mark = this.hl.querySelector<HTMLElement>('.caret-mark');
    const x = mark ? mark.offsetLeft - this.input.scrollLeft : 8;
    const y = mark ? mark.offsetTop + mark.offsetHeight - this.input.scrollTop : 20;
    this.list.style.left = `${Math.max(0, Math.min(x, this.input.clientWidth - 240))}px`;
    this.list.style.top = `${y + 18}px`;
    this.list.hidden = false;
    this.list.children[this.active]?.scrollIntoView({ block: 'nearest' });
  }

  private close(): void {
    this.items = [];
    this.list.hidden = true;
  }

  private accept(i: number): void {
    const it = this.items[i];
    if (!it) return;
    const text = this.input.value;
    const end = this.input.selectionStart ?? text.length;
    this.input.value = text.slice(0, this.wordStart) + it.insert + text.slice(end);
    const caret = this.wordStart + it.insert.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.dispatchEvent(new Event('input'));
    this.close();
  }

  private onKey(e: KeyboardEvent): void {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      this.close();
      this.opts.onRun();
      return;
    }
    if (e.ctrlKey && e.key === ' ') {
      e.preventDefault();
      this.complete(true);
      return;
    }
    if (this.list.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = this.items.length;
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.drawList();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      this.accept(this.active);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.close();
    }
  }
}

// filter keeps the items that start with word (first) or contain it, case-insensitively.
function filter(items: Item[], word: string): Item[] {
  const w = word.toLowerCase();
  const starts = items.filter((i) => i.label.toLowerCase().startsWith(w));
  const contains = w ? items.filter((i) => !i.label.toLowerCase().startsWith(w) && i.label.toLowerCase().includes(w)) : [];
  return [...starts, ...contains].slice(0, 50);
}
