/**
 * service: the in-system face of `molt service` — the same verbs, the same output, the
 * same exit statuses, each verb one request to rs:
 *
 *   service list [--json]
 *   service restart LABEL
 *   service up LABEL [KEY=VALUE…] | service down LABEL
 *   service update LABEL FILE.ts | --batch LABEL=FILE.ts … [--prepare MODE] [--state 'EXPR']
 *                  [--block LABEL[:TYPE],…] [--maxtime MS] [--init-maxtime MS] [--dry-run] [--json]
 *   service rollback LABEL [--json]
 *   service history LABEL [--json]
 *   service policy LABEL [--mode stateless-restart|ssr-restart] [--retries N] [--max-init-failures N]
 *                  [--backoff-ms N] [--backoff-max-ms N] [--max-faults N] [--window-ms N] [--json]
 *   service faults [LABEL] [--json]
 *   service fi LABEL --kind crash|throw|hang|oom|corrupt [--at TYPE] [--after N] [--seed S] [--times N]
 *   service fi LABEL --clear
 *
 * Update exit status: 0 committed (or dry run), 2 refused (or a usage error), 3 rolled
 * back, 4 cancelled. A failed request prints `service: CODE: message`, status 1. Only
 * root (uid 0) may talk to rs. FILE paths name the new version's source as the kernel
 * builds it (a host path, as with the host CLI: relative ones resolve against the
 * directory the system was booted from). `--home` is accepted and ignored.
 *
 * Entry points: default `main(argv)`; `parseServiceArgs`, `SERVICE_USAGE`.
 */
import { call, eprint, print, SysError } from 'libc';
import {
  formatFaultTable, formatFiResult, formatHistory, formatPolicy, formatServiceTable, formatUpdateResult, parseDaemonArgs, parseFiArgs,
  parsePolicyArgs, parseUpdateArgs, updateExitCode,
} from 'libc/format';

export const SERVICE_USAGE = `usage: service COMMAND
  list [--json]                 components: label, endpoint, incarnation, version, status, restarts, uptime, messages
  restart LABEL                 end a component's incarnation and start a fresh one
  up LABEL [KEY=VALUE…]         start a daemon the boot configuration lists (kvd, httpd), with argument overrides
  down LABEL                    stop a daemon (its data made durable first)
  update LABEL FILE.ts [options]
  update --batch LABEL=FILE.ts … [options]
                                live-update components; options: --prepare work-free|request-free|protocol-free|state,
                                --state 'EXPR', --block LABEL[:TYPE],…, --maxtime MS, --init-maxtime MS, --dry-run, --json
  rollback LABEL [--json]       back to the previous version, state transferred back
  history LABEL [--json]        versions, and how each update ended
  policy LABEL [options] [--json]
                                a component's recovery policy; options change it: --mode stateless-restart|ssr-restart,
                                --retries N, --max-init-failures N, --backoff-ms N, --backoff-max-ms N, --max-faults N,
                                --window-ms N
  faults [LABEL] [--json]       every recorded fault: time, incarnation, kind, request, action, time to recover
  fi LABEL --kind KIND [--at TYPE] [--after N] [--seed S] [--times N]
  fi LABEL --clear              inject a fault (crash|throw|hang|oom|corrupt) into a running component, or disarm it
Exit status of update/rollback: 0 committed (or dry run), 2 refused, 3 rolled back, 4 cancelled.
`;

type UpdateRequest = Exclude<ReturnType<typeof parseUpdateArgs>, { error: string }>;
type FiRequest = Exclude<ReturnType<typeof parseFiArgs>, { error: string }>;
type PolicyRequest = Exclude<ReturnType<typeof parsePolicyArgs>, { error: string }>;

export type ServicePlan =
  | { verb: 'help' }
  | { verb: 'list'; json: boolean }
  | { verb: 'restart'; label: string }
  | { verb: 'up'; label: string; args: Record<string, unknown> }
  | { verb: 'down'; label: string }
  | { verb: 'update'; request: UpdateRequest; json: boolean }
  | { verb: 'rollback' | 'history'; label: string; json: boolean }
  | { verb: 'policy'; request: PolicyRequest; json: boolean }
  | { verb: 'faults'; label: string | null; json: boolean }
  | { verb: 'fi'; request: FiRequest }
  | { verb: 'error'; message: string; status: number };

const UPDATE_VALUE_OPTIONS = new Set(['--prepare', '--state', '--block', '--maxtime', '--init-maxtime']);
const WITH_VALUE = new Set(['--kind', '--at', '--after', '--seed', '--times', '--mode', '--retries', '--max-init-failures', '--backoff-ms', '--backoff-max-ms', '--max-faults', '--window-ms']);

/** The words after `service` → what to ask rs, or a usage error with the status the host CLI would give. */
export function parseServiceArgs(args: readonly string[]): ServicePlan {
  const [verb, ...rest0] = args;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') return { verb: 'help' };
  // Options common to every verb: --json, and --home (meaningless inside the system).
  const rest: string[] = [];
  let json = false;
  for (let i = 0; i < rest0.length; i++) {
    const w = rest0[i]!;
    if (w === '--json') json = true;
    else if (WITH_VALUE.has(w) && i + 1 < rest0.length) rest.push(w, rest0[++i]!); // a value, even '--json'-like
    else if (w === '--home') i++;
    else if (w.startsWith('--home=')) continue;
    else {
      const eq = w.indexOf('=');
      // --maxtime=500 → --maxtime 500, as commander accepts
      if (w.startsWith('--') && eq > 2 && UPDATE_VALUE_OPTIONS.has(w.slice(0, eq))) rest.push(w.slice(0, eq), w.slice(eq + 1));
      else rest.push(w);
    }
  }
  const err = (message: string, status = 1): ServicePlan => ({ verb: 'error', message, status });
  const oneLabel = (): string | ServicePlan => {
    const unknown = rest.find((w) => w.startsWith('-'));
    if (unknown) return err(`error: unknown option '${unknown}'`);
    if (rest.length === 0) return err("error: missing required argument 'label'");
    if (rest.length > 1) return err(`error: too many arguments for '${verb}'. Expected 1 argument but got ${rest.length}.`);
    return rest[0]!;
  };
  switch (verb) {
    case 'list': {
      if (rest.length > 0) return err(rest[0]!.startsWith('-') ? `error: unknown option '${rest[0]}'` : `error: too many arguments for 'list'. Expected 0 arguments but got ${rest.length}.`);
      return { verb: 'list', json };
    }
    case 'restart': {
      if (json) return err("error: unknown option '--json'");
      const label = oneLabel();
      return typeof label === 'string' ? { verb: 'restart', label } : label;
    }
    case 'up': {
      if (json) return err("error: unknown option '--json'");
      const [label, ...kv] = rest;
      if (label === undefined || label.startsWith('-')) return err(label ? `error: unknown option '${label}'` : "error: missing required argument 'label'");
      const parsed = parseDaemonArgs(kv);
      if ('error' in parsed) return err(`error: ${parsed.error}`);
      return { verb: 'up', label, args: parsed.args };
    }
    case 'down': {
      if (json) return err("error: unknown option '--json'");
      const label = oneLabel();
      return typeof label === 'string' ? { verb: 'down', label } : label;
    }
    case 'rollback':
    case 'history': {
      const label = oneLabel();
      return typeof label === 'string' ? { verb, label, json } : label;
    }
    case 'policy': {
      const req = parsePolicyArgs(rest);
      if ('error' in req) return err(req.error, req.status);
      return { verb: 'policy', request: req, json };
    }
    case 'faults': {
      if (rest.length > 0 && rest[0]!.startsWith('-')) return err(`error: unknown option '${rest[0]}'`);
      if (rest.length > 1) return err(`error: too many arguments for 'faults'. Expected 0 or 1 argument but got ${rest.length}.`);
      return { verb: 'faults', label: rest[0] ?? null, json };
    }
    case 'fi': {
      if (json) return err("error: unknown option '--json'");
      const req = parseFiArgs(rest);
      if ('error' in req) return err(req.error, req.status);
      return { verb: 'fi', request: req };
    }
    case 'update': {
      if (rest.length === 0) return err("error: missing required argument 'args'");
      const req = parseUpdateArgs(rest, (p) => p);
      if ('error' in req) return err(req.error, 2);
      return { verb: 'update', request: req, json };
    }
    default:
      return err(`error: unknown command '${verb}'`);
  }
}

export default async function main(argv: readonly string[]): Promise<number> {
  const plan = parseServiceArgs(argv.slice(1));
  const say = (text: string) => print(text).catch(() => undefined);
  try {
    switch (plan.verb) {
      case 'help':
        await say(SERVICE_USAGE);
        return 0;
      case 'error':
        await eprint(`service: ${plan.message}\n${plan.status === 1 ? SERVICE_USAGE : ''}`).catch(() => undefined);
        return plan.status;
      case 'list': {
        const rows = await call<Parameters<typeof formatServiceTable>[0]>('rs', 'rs.list');
        await say(plan.json ? `${JSON.stringify(rows, null, 2)}\n` : formatServiceTable(rows));
        return 0;
      }
      case 'restart':
        await call('rs', 'rs.restart', { label: plan.label });
        await say(`restarted ${plan.label}\n`);
        return 0;
      case 'up':
        // Silent on success, as MINIX's `service up` (rc runs it at every boot).
        await call('rs', 'rs.up', { label: plan.label, args: plan.args });
        return 0;
      case 'down':
        await call('rs', 'rs.down', { label: plan.label });
        return 0;
      case 'update':
      case 'rollback': {
        const result =
          plan.verb === 'update'
            ? await call<Parameters<typeof formatUpdateResult>[0]>('rs', 'rs.update', { ...plan.request })
            : await call<Parameters<typeof formatUpdateResult>[0]>('rs', 'rs.rollback', { label: plan.label });
        await say(plan.json ? `${JSON.stringify(result, null, 2)}\n` : formatUpdateResult(result));
        return updateExitCode(result);
      }
      case 'history': {
        const h = await call<Parameters<typeof formatHistory>[0]>('rs', 'rs.history', { label: plan.label });
        await say(plan.json ? `${JSON.stringify(h, null, 2)}\n` : formatHistory(h));
        return 0;
      }
      case 'policy': {
        const p = await call<Parameters<typeof formatPolicy>[0]>('rs', 'rs.policy', { ...plan.request });
        await say(plan.json ? `${JSON.stringify(p, null, 2)}\n` : formatPolicy(p));
        return 0;
      }
      case 'faults': {
        const rows = await call<Parameters<typeof formatFaultTable>[0]>('rs', 'rs.faults', plan.label === null ? {} : { label: plan.label });
        await say(plan.json ? `${JSON.stringify(rows, null, 2)}\n` : formatFaultTable(rows));
        return 0;
      }
      case 'fi': {
        const r = await call<Parameters<typeof formatFiResult>[0]>('rs', 'rs.fi', { ...plan.request });
        await say(formatFiResult(r));
        return 0;
      }
    }
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    await eprint(`service: ${e.message}\n`).catch(() => undefined);
    return 1;
  }
}
