/**
 * tty: the built-in console commands (`service …`, `echo`, `shutdown`, `help`), run one
 * line at a time in order — used when the boot image has no init and shell (tty's
 * `builtin` mode), e.g. a minimal system.
 *
 * Entry points: `runBuiltin`, `prompt`.
 */
import type { Ctx } from '../../sys/index.js';
import { formatServiceTable } from '../../lib/table.js';
import { parseUpdateArgs, splitWords } from '../../lib/service-args.js';
import { formatHistory, formatUpdateResult } from '../../lib/update-format.js';
import type { ServiceRow, UpdateResult } from '../rs/protocol.js';
import type { TtyState } from './state.js';

const PROMPT = 'molt# ';
const HELP = `built-in commands:
  service list [--json]   the components, their endpoints, incarnations and state
  service restart LABEL   end a component's incarnation and start a fresh one
  service update LABEL FILE.ts [--prepare MODE] [--state 'EXPR'] [--block L[:T],…]
                 [--maxtime MS] [--init-maxtime MS] [--dry-run]
  service update --batch LABEL=FILE.ts …
                          live-update components (paths are on the host, absolute)
  service rollback LABEL  back to the previous version, state transferred back
  service history LABEL   versions and how each update ended
  echo [WORDS…]           print the words
  shutdown                stop the system
  help                    this text
`;

const write = (ctx: Ctx, text: string) => ctx.kcall({ call: 'console-write', text });

export function prompt(state: TtyState, ctx: Ctx): void {
  if (state.interactive && state.mode === 'builtin') void write(ctx, PROMPT);
}

async function run(line: string, ctx: Ctx): Promise<void> {
  const words = splitWords(line);
  if (words.length === 0) return;
  const [cmd, ...args] = words;
  switch (cmd) {
    case 'echo':
      await write(ctx, args.join(' ') + '\n');
      return;
    case 'help':
      await write(ctx, HELP);
      return;
    case 'shutdown':
      await ctx.kcall({ call: 'shutdown', code: 0 });
      return;
    case 'service': {
      if (args[0] === 'list') {
        const r = await ctx.sendrec<ServiceRow[]>('rs', { type: 'rs.list' });
        if (!r.ok) return void (await write(ctx, `service: ${r.code}${r.message ? `: ${r.message}` : ''}\n`));
        await write(ctx, args.includes('--json') ? JSON.stringify(r.value) + '\n' : formatServiceTable(r.value));
        return;
      }
      if (args[0] === 'restart' && args[1]) {
        const r = await ctx.sendrec('rs', { type: 'rs.restart', label: args[1] });
        await write(ctx, r.ok ? `restarted ${args[1]}\n` : `service: ${r.code}${r.message ? `: ${r.message}` : ''}\n`);
        return;
      }
      if (args[0] === 'update') {
        const req = parseUpdateArgs(args.slice(1), (p) => p);
        if ('error' in req) return void (await write(ctx, `service: ${req.error}\n`));
        const r = await ctx.sendrec<UpdateResult>('rs', { ...req }, { timeoutMs: 300_000 });
        await write(ctx, r.ok ? formatUpdateResult(r.value) : `service: ${r.code}${r.message ? `: ${r.message}` : ''}\n`);
        return;
      }
      if ((args[0] === 'rollback' || args[0] === 'history') && args[1]) {
        const r = await ctx.sendrec<UpdateResult>('rs', { type: `rs.${args[0]}`, label: args[1] }, { timeoutMs: 300_000 });
        if (!r.ok) return void (await write(ctx, `service: ${r.code}${r.message ? `: ${r.message}` : ''}\n`));
        await write(ctx, args[0] === 'rollback' ? formatUpdateResult(r.value) : formatHistory(r.value as unknown as Parameters<typeof formatHistory>[0]));
        return;
      }
      await write(ctx, 'usage: service list [--json] | restart LABEL | update … | rollback LABEL | history LABEL (see help)\n');
      return;
    }
    default:
      await write(ctx, `molt: ${cmd}: command not found (try help)\n`);
  }
}

/**
 * Built-in mode: run `line` (null: input ended) after the ones queued before it, in
 * order; at end of input, shut the system down once the queue is empty.
 */
export async function runBuiltin(state: TtyState, line: string | null, ctx: Ctx): Promise<void> {
  if (line !== null) state.queue.push(line);
  if (state.running) return;
  state.running = true;
  try {
    while (state.queue.length > 0) {
      await run(state.queue.shift()!, ctx);
      if (state.queue.length === 0) prompt(state, ctx);
    }
  } finally {
    state.running = false;
  }
  if (state.eof) await ctx.kcall({ call: 'shutdown', code: 0 });
}
