// The results table: click a header to sort, drag a header's edge to resize, hover a
// cell for its copy button (or double-click it). Rows are shown 500 at a time.

import type { Result, Value } from './api';
import { copyText, h, replace, toast } from './dom';
import { cellText } from './format';

const PAGE = 500;

export class ResultTable {
  readonly el: HTMLDivElement;
  private result: Result | null = null;
  private order: number[] = [];
  private sortCol = -1;
  private sortDir: 1 | -1 = 1;
  private shown = PAGE;
  private widths: number[] = [];
  private utc = true;
  private readonly copyBtn: HTMLButtonElement;
  private hovered: HTMLTableCellElement | null = null;

  constructor() {
    this.el = h('div', { class: 'table-wrap' });
    this.copyBtn = h('button', { class: 'copy-cell', type: 'button', title: 'Copy this value', 'aria-label': 'Copy cell' }, '⧉');
    this.copyBtn.addEventListener('click', (e) => {
      e.stopPropagation();
      if (this.hovered) this.copyCell(this.hovered);
    });
    this.el.addEventListener('mouseover', (e) => {
      const td = (e.target as HTMLElement).closest('td');
      if (td && td !== this.hovered && this.el.contains(td)) {
        this.hovered = td;
        td.appendChild(this.copyBtn);
      }
    });
    this.el.addEventListener('dblclick', (e) => {
      const td = (e.target as HTMLElement).closest('td');
      if (td) this.copyCell(td);
    });
  }

  render(r: Result, utc: boolean): void {
    if (r !== this.result) {
      this.result = r;
      this.order = r.rows.map((_, i) => i);
      this.sortCol = -1;
      this.shown = PAGE;
      this.widths = r.columns.map((c) => (c.type === 'time' ? 170 : c.type === 'number' ? 110 : 150));
    }
    this.utc = utc;
    this.draw();
  }

  private value(row: number, c: number): Value {
    return this.result!.rows[row][c];
  }

  private copyCell(td: HTMLTableCellElement): void {
    const row = Number(td.parentElement!.dataset.row);
    const c = Number(td.dataset.col);
    const v = this.value(row, c);
    const text = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    void copyText(text).then(() => toast(`Copied ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`));
  }

  private sortBy(c: number): void {
    if (this.sortCol === c) {
      if (this.sortDir === 1) this.sortDir = -1;
      else {
        this.sortCol = -1;
        this.order = this.result!.rows.map((_, i) => i);
        this.draw();
        return;
      }
    } else {
      this.sortCol = c;
      this.sortDir = 1;
    }
    const numeric = this.result!.columns[c].type === 'number';
    const dir = this.sortDir;
    this.order.sort((a, b) => {
      const x = this.value(a, c);
      const y = this.value(b, c);
      if (x === null || x === undefined) return y === null || y === undefined ? a - b : 1;
      if (y === null || y === undefined) return -1;
      const cmp = numeric ? Number(x) - Number(y) : String(x).localeCompare(String(y), undefined, { numeric: true });
      return cmp * dir || a - b;
    });
    this.draw();
  }

  private startResize(e: MouseEvent, c: number, colEl: HTMLTableColElement): void {
    e.preventDefault();
    e.stopPropagation();
    const x0 = e.clientX;
    const w0 = this.widths[c];
    const move = (ev: MouseEvent) => {
      this.widths[c] = Math.max(40, w0 + ev.clientX - x0);
      colEl.style.width = `${this.widths[c]}px`;
    };
    const up = () => {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
    };
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
  }

  private draw(): void {
    const r = this.result!;
    if (!r.columns.length) {
      replace(this.el, h('p', { class: 'muted' }, 'The query returned no columns.'));
      return;
    }
    const cols = r.columns.map((_, c) => h('col', { style: `width:${this.widths[c]}px` }));
    const head = h(
      'tr',
      null,
      r.columns.map((col, c) =>
        h(
          'th',
          {
            class: `${col.type === 'number' ? 'num' : ''}${this.sortCol === c ? ' sorted' : ''}`,
            'aria-sort': this.sortCol === c ? (this.sortDir === 1 ? 'ascending' : 'descending') : 'none',
            title: `${col.name} (${col.type}) — click to sort`,
            onclick: () => this.sortBy(c),
          },
          h('span', { class: 'th-name' }, col.name),
          this.sortCol === c ? h('span', { class: 'sort-mark' }, this.sortDir === 1 ? ' ▲' : ' ▼') : null,
          h('span', {
            class: 'col-resize',
            title: 'Drag to resize',
            onmousedown: (e: MouseEvent) => this.startResize(e, c, cols[c]),
            onclick: (e: Event) => e.stopPropagation(),
          }),
        ),
      ),
    );
    const body = h('tbody');
    for (const i of this.order.slice(0, this.shown)) {
      body.appendChild(
        h(
          'tr',
          { 'data-row': i },
          r.columns.map((col, c) =>
            h('td', { class: col.type === 'number' ? 'num' : '', 'data-col': c }, cellText(r.rows[i][c], col.type, this.utc)),
          ),
        ),
      );
    }
    const more =
      this.order.length > this.shown
        ? h(
            'button',
            {
              class: 'secondary more',
              type: 'button',
              onclick: () => {
                this.shown += PAGE;
                this.draw();
              },
            },
            `Show ${Math.min(PAGE, this.order.length - this.shown)} more of ${this.order.length - this.shown} rows`,
          )
        : null;
    const width = this.widths.reduce((a, b) => a + b, 0);
    this.hovered = null;
    replace(
      this.el,
      h('table', { class: 'results', style: `width:${width}px` }, h('colgroup', null, cols), h('thead', null, head), body),
      more,
    );
  }
}
