/**
 * The `service update` argument grammar, shared by the console's `service` command and
 * tests: words (with shell-style quotes) → an `rs.update` request, or a usage error.
 *
 * Entry points: `splitWords(line)`, `parseUpdateArgs(words, resolvePath)`.
 */

/** Split a command line into words; single and double quotes group, backslash escapes. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

export interface UpdateRequest {
  type: 'rs.update';
  items: Array<{ label: string; source: string }>;
  prepare?: 'work-free' | 'request-free' | 'protocol-free' | 'state';
  state?: string;
  block?: Array<{ label?: string; type?: string }>;
  maxtime?: number;
  initMaxtime?: number;
  dryRun?: boolean;
}

export const UPDATE_USAGE =
  'usage: service update LABEL FILE.ts | --batch LABEL=FILE.ts … [--prepare work-free|request-free|protocol-free|state] ' +
  "[--state 'EXPR'] [--block LABEL[:TYPE],…] [--maxtime MS] [--init-maxtime MS] [--dry-run]";

const MODES = ['work-free', 'request-free', 'protocol-free', 'state'] as const;

export function parseUpdateArgs(words: string[], resolvePath: (p: string) => string): UpdateRequest | { error: string } {
  const req: UpdateRequest = { type: 'rs.update', items: [] };
  const positional: string[] = [];
  let batch = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const value = () => {
      const v = words[++i];
      if (v === undefined) throw new Error(`${w} needs a value`);
      return v;
    };
    const ms = () => {
      const n = Number(value());
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${w} takes milliseconds`);
      return n;
    };
    try {
      switch (w) {
        case '--batch': batch = true; break;
        case '--dry-run': req.dryRun = true; break;
        case '--prepare': {
          const m = value();
          if (!(MODES as readonly string[]).includes(m)) throw new Error(`--prepare takes ${MODES.join('|')}`);
          req.prepare = m as UpdateRequest['prepare'];
          break;
        }
        case '--state': req.state = value(); req.prepare = 'state'; break;
        case '--maxtime': req.maxtime = ms(); break;
        case '--init-maxtime': req.initMaxtime = ms(); break;
        case '--block':
          req.block = parseBlock(value());
          break;
        default:
          if (w.startsWith('--')) throw new Error(`unknown option ${w}`);
          positional.push(w);
      }
    } catch (e) {
      return { error: `${(e as Error).message}\n${UPDATE_USAGE}` };
    }
  }
  const items = parseItems(positional, batch, resolvePath);
  if ('error' in items) return items;
  req.items = items;
  return req;
}

/** `LABEL[:TYPE],…` → interface-filter specs. */
export function parseBlock(list: string): Array<{ label?: string; type?: string }> {
  return list.split(',').filter(Boolean).map((b) => {
    const [label, type] = b.split(':');
    return { ...(label ? { label } : {}), ...(type ? { type } : {}) };
  });
}

/** `LABEL FILE` or, for a batch, `LABEL=FILE …` → update items. */
export function parseItems(words: string[], batch: boolean, resolvePath: (p: string) => string): UpdateRequest['items'] | { error: string } {
  const items: UpdateRequest['items'] = [];
  if (batch) {
    for (const p of words) {
      const eq = p.indexOf('=');
      if (eq <= 0 || eq === p.length - 1) return { error: `--batch takes LABEL=FILE.ts pairs, got "${p}"\n${UPDATE_USAGE}` };
      items.push({ label: p.slice(0, eq), source: resolvePath(p.slice(eq + 1)) });
    }
  } else if (words.length === 2) {
    items.push({ label: words[0]!, source: resolvePath(words[1]!) });
  }
  return items.length > 0 ? items : { error: UPDATE_USAGE };
}

/**
 * `service up LABEL KEY=VALUE …`: a daemon's argument overrides. Numbers stay numbers
 * (`port=6390`), `true`/`false` booleans, the rest strings.
 */
export function parseDaemonArgs(words: readonly string[]): { args: Record<string, unknown> } | { error: string } {
  const args: Record<string, unknown> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) return { error: `expected KEY=VALUE, got '${w}'` };
    const key = w.slice(0, eq);
    const v = w.slice(eq + 1);
    args[key] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  return { args };
}
