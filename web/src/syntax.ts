// Tokenizers for highlighting Logs Insights and SQL in the editor. They never fail:
// whatever they do not know is plain text.

export type TokenKind =
  | 'command' | 'function' | 'keyword' | 'field' | 'string' | 'number' | 'regex'
  | 'comment' | 'pipe' | 'op' | 'punct' | 'space' | 'text';

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
}

export interface Vocabulary {
  commands: Set<string>;
  functions: Set<string>;
  keywords: Set<string>;
}

// Used until GET /api/v1/language answers.
export const defaultInsights: Vocabulary = {
  commands: new Set(['fields', 'filter', 'stats', 'sort', 'limit', 'parse', 'display', 'dedup', 'unmask', 'pattern', 'diff', 'filterIndex', 'anomaly']),
  functions: new Set(['bin', 'count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'pct', 'stddev', 'earliest', 'latest', 'sortsFirst', 'sortsLast', 'isblank', 'ispresent', 'isValidIp', 'isIpInSubnet', 'isIpv4InSubnet', 'strlen', 'toupper', 'tolower', 'concat', 'abs', 'ceil', 'floor', 'greatest', 'least', 'log', 'sqrt', 'datefloor', 'dateceil', 'fromMillis', 'toMillis', 'coalesce']),
  keywords: new Set(['by', 'as', 'and', 'or', 'not', 'like', 'in', 'asc', 'desc']),
};

export const sqlKeywords = new Set(
  ('select from where group by order having limit offset as and or not in like ilike between is null case when then else end ' +
    'join left right inner outer full cross on using distinct union all except intersect with asc desc true false cast interval ' +
    'over partition rows range preceding following current row values exists any some filter date timestamp extract')
    .split(' '),
);

const identStart = /[A-Za-z_@$]/;
const identPart = /[A-Za-z0-9_@$.\-]/;

// A slash starts a regex after these tokens (or at the start); after a value it divides.
function regexAllowed(prev: Token | undefined, text: string): boolean {
  if (!prev) return true;
  if (prev.kind === 'op' || prev.kind === 'pipe' || prev.kind === 'keyword' || prev.kind === 'command') return true;
  if (prev.kind === 'punct') return text[prev.start] === '(' || text[prev.start] === ',';
  return false;
}

export function tokenizeInsights(text: string, vocab: Vocabulary): Token[] {
  const out: Token[] = [];
  let i = 0;
  let atCommand = true; // the next word is a command name
  const significant = () => {
    for (let k = out.length - 1; k >= 0; k--) if (out[k].kind !== 'space' && out[k].kind !== 'comment') return out[k];
    return undefined;
  };
  while (i < text.length) {
    const c = text[i];
    const start = i;
    let kind: TokenKind;
    if (/\s/.test(c)) {
      while (i < text.length && /\s/.test(text[i])) i++;
      kind = 'space';
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      kind = 'comment';
    } else if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, text.length);
      kind = c === '`' ? 'field' : 'string';
    } else if (c === '/' && regexAllowed(significant(), text)) {
      i++;
      while (i < text.length && text[i] !== '/' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      i = Math.min(i + 1, text.length);
      while (i < text.length && /[a-z]/.test(text[i])) i++;
      kind = 'regex';
    } else if (/[0-9]/.test(c)) {
      while (i < text.length && /[0-9.]/.test(text[i])) i++;
      while (i < text.length && /[A-Za-z]/.test(text[i])) i++;
      kind = 'number';
    } else if (identStart.test(c)) {
      while (i < text.length && identPart.test(text[i])) i++;
      const word = text.slice(start, i);
      const lower = word.toLowerCase();
      let j = i;
      while (j < text.length && text[j] === ' ') j++;
      if (atCommand && vocab.commands.has(word)) kind = 'command';
      else if (vocab.keywords.has(lower)) kind = 'keyword';
      else if (text[j] === '(') kind = 'function';
      else kind = 'field';
    } else if (c === '|') {
      i++;
      kind = 'pipe';
    } else if ('()[],'.includes(c)) {
      i++;
      kind = 'punct';
    } else {
      while (i < text.length && '=!<>~+-*/%^&'.includes(text[i]) && i - start < 3) i++;
      if (i === start) i++;
      kind = 'op';
    }
    out.push({ kind, start, end: i });
    if (kind === 'pipe') atCommand = true;
    else if (kind !== 'space' && kind !== 'comment') atCommand = false;
  }
  return out;
}

export function tokenizeSQL(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const start = i;
    let kind: TokenKind;
    if (/\s/.test(c)) {
      while (i < text.length && /\s/.test(text[i])) i++;
      kind = 'space';
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') i++;
      kind = 'comment';
    } else if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? text.length : e + 2;
      kind = 'comment';
    } else if (c === "'" || c === '"') {
      i++;
      while (i < text.length) {
        if (text[i] === c) {
          if (text[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i = Math.min(i + 1, text.length);
      kind = c === "'" ? 'string' : 'field';
    } else if (/[0-9]/.test(c)) {
      while (i < text.length && /[0-9.eE]/.test(text[i])) i++;
      kind = 'number';
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
      const word = text.slice(start, i).toLowerCase();
      let j = i;
      while (j < text.length && text[j] === ' ') j++;
      kind = sqlKeywords.has(word) ? 'keyword' : text[j] === '(' ? 'function' : 'field';
    } else if ('()[],;.'.includes(c)) {
      i++;
      kind = 'punct';
    } else {
      i++;
      kind = 'op';
    }
    out.push({ kind, start, end: i });
  }
  return out;
}
