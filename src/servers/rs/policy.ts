/**
 * rs: recovery policies as data (DESIGN.md §5). A service's policy — the recovery mode
 * (`stateless-restart` / `ssr-restart`, with the retries of an interrupted call), the
 * restart backoff and the give-up limits — comes from the boot configuration's `policy`
 * over `DEFAULT_POLICY`, and `service policy` changes it while the service runs. The
 * kernel keeps the recovery part per endpoint (it decides what happens to the calls a
 * crashed incarnation was handling), so rs passes it on every spawn and, when it
 * changes, with the `recovery` kernel call.
 *
 * Entry points: `doPolicy`, `checkPolicy`, `policyFrom`, `recoveryOf`.
 */
import type { Recovery, RestartPolicy } from '../../kernel/abi.js';
import { err, ok, type Handler } from '../../sys/index.js';
import type { PolicyView, RsRequest } from './protocol.js';
import { DEFAULT_POLICY, type Policy, type RsState, type ServiceRecord } from './state.js';

type Req<K extends RsRequest['type']> = Extract<RsRequest, { type: K }>;

const MODES: ReadonlyArray<Policy['mode']> = ['stateless-restart', 'ssr-restart'];
/** The kernel's bound on retries (it refuses more). */
export const MAX_RETRIES = 100;

type Field = Exclude<keyof Policy, 'mode'>;
/** Each numeric field: its least value and, where there is one, its greatest. */
const BOUNDS: Record<Field, [number, number]> = {
  retries: [0, MAX_RETRIES],
  maxInitFailures: [1, 1_000_000],
  backoffBaseMs: [0, 3_600_000],
  backoffMaxMs: [0, 86_400_000],
  maxFaults: [0, 1_000_000],
  windowMs: [1, 86_400_000],
};
export const POLICY_FIELDS = ['mode', ...Object.keys(BOUNDS)] as ReadonlyArray<keyof Policy>;

/** `current` with `change` applied, or every reason it is not a valid policy. */
export function checkPolicy(current: Policy, change: Partial<Record<keyof Policy, unknown>>): { policy: Policy } | { errors: string[] } {
  const errors: string[] = [];
  const next: Policy = { ...current };
  if (change.mode !== undefined) {
    if (MODES.includes(change.mode as Policy['mode'])) next.mode = change.mode as Policy['mode'];
    else errors.push(`mode: ${MODES.join(' or ')}, not ${JSON.stringify(change.mode)}`);
  }
  for (const [field, [lo, hi]] of Object.entries(BOUNDS) as Array<[Field, [number, number]]>) {
    const v = change[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) errors.push(`${field}: an integer ${lo}…${hi}, not ${JSON.stringify(v)}`);
    else next[field] = v;
  }
  if (errors.length === 0 && next.backoffMaxMs < next.backoffBaseMs) {
    errors.push(`backoffMaxMs (${next.backoffMaxMs}) is less than backoffBaseMs (${next.backoffBaseMs})`);
  }
  return errors.length > 0 ? { errors } : { policy: next };
}

/**
 * A boot configuration's policy over the defaults. A field that is not valid keeps its
 * default (a bad `mode` would otherwise make every spawn fail with EINVAL).
 */
export function policyFrom(given: Partial<RestartPolicy> | undefined): Policy {
  let policy: Policy = { ...DEFAULT_POLICY };
  for (const field of POLICY_FIELDS) {
    const v = given?.[field];
    if (v === undefined) continue;
    const r = checkPolicy(policy, { [field]: v });
    if ('policy' in r) policy = r.policy;
  }
  return policy;
}

/** The part of the policy the kernel applies: what happens to a crashed incarnation's calls. */
export function recoveryOf(rec: ServiceRecord): Recovery {
  return { mode: rec.policy.mode, retries: rec.policy.retries };
}

export function policyView(rec: ServiceRecord): PolicyView {
  return { label: rec.label, ...rec.policy };
}

export const doPolicy: Handler<RsState, Req<'rs.policy'>> = async (state, msg, ctx) => {
  const rec = state.services.get(msg.label);
  if (!rec) return err('ENOENT', `no service ${msg.label}`);
  const change: Partial<Record<keyof Policy, unknown>> = {};
  for (const field of POLICY_FIELDS) if (msg[field] !== undefined) change[field] = msg[field];
  if (Object.keys(change).length === 0) return ok(policyView(rec));
  // rs is restarted by the kernel, not by itself: none of this applies to it.
  if (msg.label === ctx.self.label) return err('EPERM', `${msg.label} is restarted by the kernel; its policy cannot change`);
  const r = checkPolicy(rec.policy, change);
  if ('errors' in r) return err('EINVAL', r.errors.join('; '));
  // 1. The kernel first (it owns what happens to calls on a crash): if it refuses, nothing changes.
  if (r.policy.mode !== rec.policy.mode || r.policy.retries !== rec.policy.retries) {
    const k = await ctx.kcall({ call: 'recovery', label: rec.label, recovery: { mode: r.policy.mode, retries: r.policy.retries } });
    // ENOENT: the kernel has no endpoint for it yet (never spawned): the next spawn passes it.
    if (!k.ok && k.code !== 'ENOENT') return err(k.code, k.message);
  }
  // 2. Then rs's own part (backoff, give-up limits), used from the next fault on.
  rec.policy = r.policy;
  return ok(policyView(rec));
};

/**
 * After rs is live-updated from a version whose policies lacked some fields (e.g. `mode`,
 * `retries`), the transfer gave them their type's initial value (`retries: 0`); give each
 * service the value its boot configuration (or the default) says instead.
 */
export function fillAddedPolicyFields(state: RsState, added: Record<string, number>): void {
  const fields = POLICY_FIELDS.filter((f) => Object.keys(added).some((k) => /Policy/.test(k) && k.endsWith(`.${f}`)));
  if (fields.length === 0) return;
  const configs = [...(state.config?.services ?? []), ...(state.config?.daemons ?? []), ...(state.config ? [state.config.rs] : [])];
  for (const rec of state.services.values()) {
    const wanted = policyFrom(configs.find((c) => c.label === rec.label)?.policy);
    rec.policy = { ...rec.policy, ...Object.fromEntries(fields.map((f) => [f, wanted[f]])) };
  }
}
