// The time picker (relative and absolute ranges, UTC or local time) and the dataset
// picker (several datasets; none chosen means all).

import type { Dataset, Range } from './api';
import { h, replace } from './dom';
import { formatTime, fromInputValue, toInputValue } from './format';

export const relativeRanges: { since: string; label: string }[] = [
  { since: '5m', label: '5 minutes' },
  { since: '15m', label: '15 minutes' },
  { since: '1h', label: '1 hour' },
  { since: '3h', label: '3 hours' },
  { since: '12h', label: '12 hours' },
  { since: '1d', label: '1 day' },
  { since: '7d', label: '7 days' },
];

export function rangeLabel(r: Range, utc: boolean): string {
  if (r.since) return `Last ${relativeRanges.find((x) => x.since === r.since)?.label ?? r.since}`;
  if (!r.start && !r.end) return 'All time';
  const tz = utc ? ' UTC' : '';
  return `${r.start ? formatTime(r.start, utc) : '…'} → ${r.end ? formatTime(r.end, utc) : 'now'}${tz}`;
}

// Popover is a button that opens a panel below it; a click elsewhere closes it.
class Popover {
  readonly el: HTMLDivElement;
  readonly button: HTMLButtonElement;
  readonly panel: HTMLDivElement;
  private readonly outside = (e: MouseEvent) => {
    if (!this.el.contains(e.target as Node)) this.close();
  };

  constructor(cls: string, label: string, private readonly onOpen: () => void) {
    this.button = h('button', { type: 'button', class: 'picker-button', 'aria-haspopup': 'true', 'aria-label': label });
    this.panel = h('div', { class: 'popover', hidden: true });
    this.el = h('div', { class: `picker ${cls}` }, this.button, this.panel);
    this.button.addEventListener('click', () => (this.panel.hidden ? this.open() : this.close()));
  }

  open(): void {
    this.onOpen();
    this.panel.hidden = false;
    document.addEventListener('mousedown', this.outside);
  }

  close(): void {
    this.panel.hidden = true;
    document.removeEventListener('mousedown', this.outside);
  }
}

export class TimePicker {
  readonly el: HTMLDivElement;
  private readonly pop: Popover;
  private readonly tzButtons: HTMLButtonElement[];

  constructor(
    private range: Range,
    private utc: boolean,
    private readonly onChange: (r: Range, utc: boolean) => void,
  ) {
    this.pop = new Popover('time-picker', 'Time range', () => this.drawPanel());
    this.tzButtons = ['UTC', 'Local'].map((t) =>
      h(
        'button',
        {
          type: 'button',
          class: 'seg',
          onclick: () => {
            this.utc = t === 'UTC';
            this.draw();
            this.onChange(this.range, this.utc);
          },
        },
        t,
      ),
    );
    this.el = h('div', { class: 'time-controls' }, this.pop.el, h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time zone' }, this.tzButtons));
    this.draw();
  }

  set(range: Range, utc: boolean): void {
    this.range = range;
    this.utc = utc;
    this.draw();
  }

  private draw(): void {
    this.pop.button.textContent = `${rangeLabel(this.range, this.utc)} ▾`;
    this.tzButtons.forEach((b) => b.classList.toggle('on', (b.textContent === 'UTC') === this.utc));
  }

  private pick(r: Range): void {
    this.range = r;
    this.draw();
    this.pop.close();
    this.onChange(r, this.utc);
  }

  private drawPanel(): void {
    const rel = h(
      'div',
      { class: 'rel-ranges' },
      relativeRanges.map((x) =>
        h('button', { type: 'button', class: `chip${this.range.since === x.since ? ' on' : ''}`, onclick: () => this.pick({ since: x.since }) }, x.since),
      ),
      h('button', { type: 'button', class: `chip${!this.range.since && !this.range.start && !this.range.end ? ' on' : ''}`, onclick: () => this.pick({}) }, 'all'),
    );
    const start = h('input', { type: 'datetime-local', 'aria-label': 'Start', value: this.range.start ? toInputValue(this.range.start, this.utc) : '' });
    const end = h('input', { type: 'datetime-local', 'aria-label': 'End', value: this.range.end ? toInputValue(this.range.end, this.utc) : '' });
    const err = h('div', { class: 'error-text' });
    const abs = h(
      'form',
      {
        class: 'abs-range',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const s = fromInputValue(start.value, this.utc);
          const en = fromInputValue(end.value, this.utc);
          if (!s && !en) {
            err.textContent = 'Give a start, an end or both.';
            return;
          }
          if (s && en && s >= en) {
            err.textContent = 'The start must be before the end.';
            return;
          }
          this.pick({ ...(s ? { start: s } : {}), ...(en ? { end: en } : {}) });
        },
      },
      h('label', null, 'Start', start),
      h('label', null, 'End', end),
      h('div', { class: 'muted small' }, `Times in ${this.utc ? 'UTC' : 'local time'}`),
      err,
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    );
    replace(this.pop.panel, h('div', { class: 'muted small' }, 'Relative'), rel, h('div', { class: 'muted small' }, 'Absolute'), abs);
  }
}

export class DatasetPicker {
  readonly el: HTMLDivElement;
  private readonly pop: Popover;
  private all: Dataset[] = [];

  constructor(
    private selected: string[],
    private readonly onChange: (names: string[]) => void,
  ) {
    this.pop = new Popover('dataset-picker', 'Datasets', () => this.drawPanel());
    this.el = this.pop.el;
    this.draw();
  }

  setDatasets(ds: Dataset[]): void {
    this.all = ds;
    this.draw();
  }

  set(names: string[]): void {
    this.selected = names;
    this.draw();
  }

  private draw(): void {
    const s = this.selected;
    this.pop.button.textContent = `${s.length === 0 ? 'All datasets' : s.length <= 2 ? s.join(', ') : `${s.length} datasets`} ▾`;
  }

  private drawPanel(): void {
    if (!this.all.length) {
      replace(this.pop.panel, h('p', { class: 'muted' }, 'No datasets yet: ingest flow logs first (flowlens ingest).'));
      return;
    }
    const boxes = this.all.map((d) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          value: d.name,
          checked: this.selected.includes(d.name),
          onchange: (e: Event) => {
            const t = e.target as HTMLInputElement;
            this.selected = t.checked ? [...this.selected, d.name] : this.selected.filter((n) => n !== d.name);
            this.draw();
            this.onChange(this.selected);
          },
        }),
        h('span', null, d.name),
        h('span', { class: 'muted small' }, ` ${d.records.toLocaleString('en')} records`),
      ),
    );
    replace(
      this.pop.panel,
      h('div', { class: 'muted small' }, 'None checked: all datasets'),
      boxes,
      h(
        'button',
        {
          type: 'button',
          class: 'secondary small',
          onclick: () => {
            this.selected = [];
            this.draw();
            this.drawPanel();
            this.onChange([]);
          },
        },
        'Clear',
      ),
    );
  }
}
