/**
 * The `service update` argument grammar, shared by the console's `service` command and
 * tests: words (with shell-style quotes) → an `rs.update` request, or a usage error; and
 * those of `service fi` and `service policy` (→ `rs.fi` / `rs.policy`).
 *
 * Entry points: `splitWords(line)`, `parseUpdateArgs(words, resolvePath)`, `parseFiArgs`,
 * `fiRequest`, `parsePolicyArgs`, `policyRequest`.
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
  mode?: 'process' | 'objects';
  lazy?: boolean;
}

export const UPDATE_USAGE =
  'usage: service update LABEL FILE.ts | --batch LABEL=FILE.ts … [--prepare work-free|request-free|protocol-free|state] ' +
  "[--state 'EXPR'] [--block LABEL[:TYPE],…] [--maxtime MS] [--init-maxtime MS] [--dry-run] [--mode process|objects] [--lazy]";

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
        case '--mode': {
          const m = value();
          if (m !== 'process' && m !== 'objects') throw new Error('--mode takes process|objects');
          req.mode = m;
          break;
        }
        case '--lazy': req.lazy = true; break;
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
  if (req.lazy && req.mode !== 'objects') return { error: `--lazy needs --mode objects\n${UPDATE_USAGE}` };
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

// ── service fi / service policy ─────────────────────────────────────────────────────
// The host CLI reads the options with commander and hands their strings to `fiRequest` /
// `policyRequest`; the in-system `service` reads words with `parseFiArgs` /
// `parsePolicyArgs`, which end in the same functions — one validation, one request.

/** A usage error: status 1 where commander would fail (unknown option, missing label), 2 for a bad value. */
export interface ArgError {
  error: string;
  status: 1 | 2;
}

export const FI_KINDS = ['crash', 'throw', 'hang', 'oom', 'corrupt'] as const;
export type FiKind = (typeof FI_KINDS)[number];

export const FI_USAGE =
  'usage: service fi LABEL --kind crash|throw|hang|oom|corrupt [--at TYPE] [--after N] [--seed S] [--times N]\n' +
  '       service fi LABEL --clear';

/** The `rs.fi` request: arm a fault plan (or clear it) in a running service. */
export interface FiRequest {
  type: 'rs.fi';
  label: string;
  kind?: FiKind;
  at?: string;
  after?: number;
  seed?: number;
  times?: number;
  clear?: true;
}

export interface FiOptions {
  kind?: string;
  at?: string;
  after?: string;
  seed?: string;
  times?: string;
  clear?: boolean;
}

function count(flag: string, v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${flag} takes an integer >= 0, not '${v}'`);
  return n;
}

export function fiRequest(label: string, o: FiOptions): FiRequest | ArgError {
  try {
    if (o.clear) {
      const extra = (['kind', 'at', 'after', 'seed', 'times'] as const).find((k) => o[k] !== undefined);
      if (extra) throw new Error(`--clear takes no --${extra}`);
      return { type: 'rs.fi', label, clear: true };
    }
    if (o.kind === undefined) throw new Error('--kind (or --clear) is required');
    if (!(FI_KINDS as readonly string[]).includes(o.kind)) throw new Error(`--kind takes ${FI_KINDS.join('|')}, not '${o.kind}'`);
    if (o.at !== undefined && o.at === '') throw new Error('--at takes a message type');
    return {
      type: 'rs.fi', label, kind: o.kind as FiKind,
      ...(o.at !== undefined ? { at: o.at } : {}),
      ...(o.after !== undefined ? { after: count('--after', o.after) } : {}),
      ...(o.seed !== undefined ? { seed: count('--seed', o.seed) } : {}),
      ...(o.times !== undefined ? { times: count('--times', o.times) } : {}),
    };
  } catch (e) {
    return { error: `${(e as Error).message}\n${FI_USAGE}`, status: 2 };
  }
}

/** `LABEL --opt V --flag …` (also `--opt=V`) → the label and the options, or a commander-like error. */
function readOptions(words: readonly string[], values: readonly string[], flags: readonly string[]): { label: string; opts: Map<string, string | true> } | ArgError {
  const opts = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    let inline: string | undefined;
    const eq = w.indexOf('=');
    if (w.startsWith('--') && eq > 2) {
      inline = w.slice(eq + 1);
      w = w.slice(0, eq);
    }
    if (values.includes(w)) {
      const v = inline ?? words[++i];
      if (v === undefined) return { error: `error: option '${w}' argument missing`, status: 1 };
      opts.set(w, v);
    } else if (flags.includes(w) && inline === undefined) {
      opts.set(w, true);
    } else if (w.startsWith('-') && w !== '-') {
      return { error: `error: unknown option '${words[i]}'`, status: 1 };
    } else {
      positional.push(w);
    }
  }
  if (positional.length === 0) return { error: "error: missing required argument 'label'", status: 1 };
  if (positional.length > 1) return { error: `error: too many arguments. Expected 1 argument but got ${positional.length}.`, status: 1 };
  return { label: positional[0]!, opts };
}

export function parseFiArgs(words: readonly string[]): FiRequest | ArgError {
  const r = readOptions(words, ['--kind', '--at', '--after', '--seed', '--times'], ['--clear']);
  if ('error' in r) return r;
  const get = (k: string) => {
    const v = r.opts.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const o: FiOptions = {};
  for (const k of ['kind', 'at', 'after', 'seed', 'times'] as const) {
    const v = get(`--${k}`);
    if (v !== undefined) o[k] = v;
  }
  if (r.opts.has('--clear')) o.clear = true;
  return fiRequest(r.label, o);
}

export const POLICY_USAGE =
  'usage: service policy LABEL [--mode stateless-restart|ssr-restart] [--retries N] [--max-init-failures N]\n' +
  '                      [--backoff-ms N] [--backoff-max-ms N] [--max-faults N] [--window-ms N] [--json]';

/** `service policy` options → `rs.policy` fields (and commander's camelCase option names). */
export const POLICY_OPTIONS = [
  { flag: '--mode', field: 'mode', opt: 'mode' },
  { flag: '--retries', field: 'retries', opt: 'retries' },
  { flag: '--max-init-failures', field: 'maxInitFailures', opt: 'maxInitFailures' },
  { flag: '--backoff-ms', field: 'backoffBaseMs', opt: 'backoffMs' },
  { flag: '--backoff-max-ms', field: 'backoffMaxMs', opt: 'backoffMaxMs' },
  { flag: '--max-faults', field: 'maxFaults', opt: 'maxFaults' },
  { flag: '--window-ms', field: 'windowMs', opt: 'windowMs' },
] as const;

export const RECOVERY_MODES = ['stateless-restart', 'ssr-restart'] as const;

/** The `rs.policy` request: a service's policy, changing the fields given. */
export interface PolicyRequest {
  type: 'rs.policy';
  label: string;
  mode?: (typeof RECOVERY_MODES)[number];
  retries?: number;
  maxInitFailures?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  maxFaults?: number;
  windowMs?: number;
}

/** `opts` by commander's option names (`backoffMs`, …), values as typed. */
export function policyRequest(label: string, opts: Partial<Record<(typeof POLICY_OPTIONS)[number]['opt'], string>>): PolicyRequest | ArgError {
  const req: PolicyRequest = { type: 'rs.policy', label };
  try {
    for (const { flag, field, opt } of POLICY_OPTIONS) {
      const v = opts[opt];
      if (v === undefined) continue;
      if (field === 'mode') {
        if (!(RECOVERY_MODES as readonly string[]).includes(v)) throw new Error(`--mode takes ${RECOVERY_MODES.join('|')}, not '${v}'`);
        req.mode = v as PolicyRequest['mode'];
      } else {
        req[field] = count(flag, v);
      }
    }
  } catch (e) {
    return { error: `${(e as Error).message}\n${POLICY_USAGE}`, status: 2 };
  }
  return req;
}

export function parsePolicyArgs(words: readonly string[]): PolicyRequest | ArgError {
  const r = readOptions(words, POLICY_OPTIONS.map((o) => o.flag), []);
  if ('error' in r) return r;
  const opts: Partial<Record<(typeof POLICY_OPTIONS)[number]['opt'], string>> = {};
  for (const { flag, opt } of POLICY_OPTIONS) {
    const v = r.opts.get(flag);
    if (typeof v === 'string') opts[opt] = v;
  }
  return policyRequest(r.label, opts);
}
