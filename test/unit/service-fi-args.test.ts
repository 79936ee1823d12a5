/**
 * `service fi`, `service policy` and `service faults`: their arguments (the in-system
 * `service` program's words and the host CLI's option strings end in the same request),
 * their output, and rs's pure parts behind them (policy validation, the bounded fault log).
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('libc', () => import('../../src/lib/libc/index.js'));
vi.mock('libc/format', () => import('../../src/lib/libc/format.js'));

import { fiRequest, parseFiArgs, parsePolicyArgs, policyRequest } from '../../src/lib/service-args.js';
import { formatFaultTable, formatFiResult, formatPolicy } from '../../src/lib/table.js';
import { parseServiceArgs } from '../../src/user/bin/service.js';
import { FAULT_LOG_LIMIT, incarnationIn, markRecovered, recordFault } from '../../src/servers/rs/faults.js';
import { checkPolicy, policyFrom } from '../../src/servers/rs/policy.js';
import { DEFAULT_POLICY } from '../../src/servers/rs/state.js';
import { recordFor } from '../../src/servers/rs/reincarnate.js';

describe('service fi arguments', () => {
  it('every option, in both spellings', () => {
    expect(parseFiArgs(['echo', '--kind', 'throw', '--at', 'fi.add', '--after', '2', '--seed=7', '--times', '0'])).toEqual({
      type: 'rs.fi', label: 'echo', kind: 'throw', at: 'fi.add', after: 2, seed: 7, times: 0,
    });
    expect(parseFiArgs(['--kind=crash', 'vfs'])).toEqual({ type: 'rs.fi', label: 'vfs', kind: 'crash' });
    expect(parseFiArgs(['vfs', '--clear'])).toEqual({ type: 'rs.fi', label: 'vfs', clear: true });
  });

  it('each kind', () => {
    for (const kind of ['crash', 'throw', 'hang', 'oom', 'corrupt']) expect(parseFiArgs(['x', '--kind', kind])).toMatchObject({ kind });
  });

  it('bad values: status 2 with the reason and the usage', () => {
    expect(parseFiArgs(['x', '--kind', 'explode'])).toMatchObject({ status: 2, error: expect.stringMatching(/--kind takes crash\|throw\|hang\|oom\|corrupt, not 'explode'[\s\S]*usage: service fi/) });
    expect(parseFiArgs(['x'])).toMatchObject({ status: 2, error: expect.stringContaining('--kind (or --clear) is required') });
    expect(parseFiArgs(['x', '--kind', 'throw', '--after', '-1'])).toMatchObject({ status: 2, error: expect.stringContaining('--after takes an integer >= 0') });
    expect(parseFiArgs(['x', '--kind', 'throw', '--times', '1.5'])).toMatchObject({ status: 2 });
    expect(parseFiArgs(['x', '--kind', 'throw', '--seed', 'abc'])).toMatchObject({ status: 2 });
    expect(parseFiArgs(['x', '--clear', '--kind', 'throw'])).toMatchObject({ status: 2, error: expect.stringContaining('--clear takes no --kind') });
    expect(parseFiArgs(['x', '--kind', 'throw', '--at', ''])).toMatchObject({ status: 2 });
  });

  it('usage errors as commander words them: status 1', () => {
    expect(parseFiArgs(['--kind', 'throw'])).toEqual({ status: 1, error: "error: missing required argument 'label'" });
    expect(parseFiArgs(['a', 'b', '--kind', 'throw'])).toMatchObject({ status: 1 });
    expect(parseFiArgs(['a', '--bogus'])).toEqual({ status: 1, error: "error: unknown option '--bogus'" });
    expect(parseFiArgs(['a', '--kind'])).toEqual({ status: 1, error: "error: option '--kind' argument missing" });
  });

  it('the host CLI options (strings from commander) give the same request', () => {
    expect(fiRequest('echo', { kind: 'corrupt', seed: '42', at: 'fi.get' })).toEqual(parseFiArgs(['echo', '--kind', 'corrupt', '--seed', '42', '--at', 'fi.get']));
    expect(fiRequest('echo', { clear: true })).toEqual({ type: 'rs.fi', label: 'echo', clear: true });
  });
});

describe('service policy arguments', () => {
  it('every option → rs.policy fields', () => {
    expect(parsePolicyArgs(['kvd', '--mode', 'ssr-restart', '--retries', '2', '--max-init-failures', '5', '--backoff-ms=10', '--backoff-max-ms', '100', '--max-faults', '4', '--window-ms', '1000'])).toEqual({
      type: 'rs.policy', label: 'kvd', mode: 'ssr-restart', retries: 2, maxInitFailures: 5, backoffBaseMs: 10, backoffMaxMs: 100, maxFaults: 4, windowMs: 1000,
    });
    expect(parsePolicyArgs(['kvd'])).toEqual({ type: 'rs.policy', label: 'kvd' });
  });

  it('bad values and usage errors', () => {
    expect(parsePolicyArgs(['kvd', '--mode', 'reboot'])).toMatchObject({ status: 2, error: expect.stringContaining("--mode takes stateless-restart|ssr-restart, not 'reboot'") });
    expect(parsePolicyArgs(['kvd', '--retries', 'x'])).toMatchObject({ status: 2 });
    expect(parsePolicyArgs([])).toMatchObject({ status: 1 });
    expect(parsePolicyArgs(['kvd', '--kind', 'throw'])).toMatchObject({ status: 1, error: "error: unknown option '--kind'" });
  });

  it('commander option names map to the same fields', () => {
    expect(policyRequest('kvd', { mode: 'stateless-restart', backoffMs: '5', backoffMaxMs: '50', maxInitFailures: '2' })).toEqual(
      parsePolicyArgs(['kvd', '--mode', 'stateless-restart', '--backoff-ms', '5', '--backoff-max-ms', '50', '--max-init-failures', '2']),
    );
  });
});

describe('the in-system service verbs', () => {
  it('policy, faults, fi', () => {
    expect(parseServiceArgs(['policy', 'vfs', '--retries', '3', '--json'])).toEqual({ verb: 'policy', json: true, request: { type: 'rs.policy', label: 'vfs', retries: 3 } });
    expect(parseServiceArgs(['faults'])).toEqual({ verb: 'faults', label: null, json: false });
    expect(parseServiceArgs(['faults', 'vfs', '--json'])).toEqual({ verb: 'faults', label: 'vfs', json: true });
    expect(parseServiceArgs(['faults', 'a', 'b'])).toMatchObject({ verb: 'error', status: 1 });
    expect(parseServiceArgs(['faults', '--x'])).toMatchObject({ verb: 'error', status: 1 });
    expect(parseServiceArgs(['fi', 'vfs', '--kind', 'hang', '--at', 'vfs.read'])).toEqual({ verb: 'fi', request: { type: 'rs.fi', label: 'vfs', kind: 'hang', at: 'vfs.read' } });
    expect(parseServiceArgs(['fi', 'vfs', '--kind', 'nope'])).toMatchObject({ verb: 'error', status: 2 });
    expect(parseServiceArgs(['fi', 'vfs', '--clear', '--home', '/x'])).toEqual({ verb: 'fi', request: { type: 'rs.fi', label: 'vfs', clear: true } });
    expect(parseServiceArgs(['fi', 'vfs', '--kind', 'throw', '--json'])).toMatchObject({ verb: 'error', status: 1 });
  });
});

describe('output', () => {
  it('the faults table', () => {
    const at = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const text = formatFaultTable([
      { label: 'echo', at, incarnation: 12, kind: 'exit', message: 'm', requests: ['fi.echo'], action: 'restart', recoveredMs: 42, injected: 'crash' },
      { label: 'frag', at, incarnation: null, kind: 'init', message: 'm', requests: [], action: 'give-up', recoveredMs: null },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['TIME', 'LABEL', 'INC', 'KIND', 'REQUEST', 'ACTION', 'RECOVERED']);
    expect(lines[1]).toMatch(/^03:04:05\.678\s+echo\s+#12\s+exit \(fi crash\)\s+fi\.echo\s+restart\s+42ms$/);
    expect(lines[2]).toMatch(/^03:04:05\.678\s+frag\s+-\s+init\s+-\s+give-up\s+-$/);
    expect(formatFaultTable([])).toBe('no faults recorded\n');
  });

  it('policy and fi', () => {
    const text = formatPolicy({ label: 'echo', ...DEFAULT_POLICY });
    expect(text).toMatch(/^POLICY\s+echo\nmode\s+stateless-restart\nretries\s+1\nmax-init-failures\s+3\n/);
    expect(formatFiResult({ label: 'echo', incarnation: 5, plan: { kind: 'throw', at: 'fi.add', after: 2 } })).toBe('armed throw in echo#5 (at fi.add, after 2, 1 time)\n');
    expect(formatFiResult({ label: 'echo', incarnation: 5, plan: { kind: 'corrupt', times: 0, seed: 9 } })).toBe('armed corrupt in echo#5 (at any request, every time, seed 9)\n');
    expect(formatFiResult({ label: 'echo', incarnation: 5, plan: null })).toBe('cleared fault injection in echo#5\n');
  });
});

describe('rs: policies and the fault log', () => {
  it('checkPolicy collects every reason', () => {
    const r = checkPolicy(DEFAULT_POLICY, { mode: 'reboot', retries: -1, windowMs: 0, maxInitFailures: 'x' });
    expect('errors' in r && r.errors).toEqual([
      'mode: stateless-restart or ssr-restart, not "reboot"',
      'retries: an integer 0…100, not -1',
      'maxInitFailures: an integer 1…1000000, not "x"',
      'windowMs: an integer 1…86400000, not 0',
    ]);
    expect(checkPolicy(DEFAULT_POLICY, { backoffMaxMs: 10, backoffBaseMs: 20 })).toEqual({ errors: ['backoffMaxMs (10) is less than backoffBaseMs (20)'] });
    expect(checkPolicy(DEFAULT_POLICY, { mode: 'ssr-restart', retries: 3 })).toEqual({ policy: { ...DEFAULT_POLICY, mode: 'ssr-restart', retries: 3 } });
  });

  it('a boot configuration policy over the defaults; bad fields keep theirs', () => {
    expect(policyFrom(undefined)).toEqual(DEFAULT_POLICY);
    expect(policyFrom({ mode: 'ssr-restart', retries: 2, backoffBaseMs: 10 } as never)).toEqual({ ...DEFAULT_POLICY, mode: 'ssr-restart', retries: 2, backoffBaseMs: 10 });
    expect(policyFrom({ mode: 'bogus', maxFaults: -3 } as never)).toEqual(DEFAULT_POLICY);
  });

  it('the log keeps the last 100, marks injected faults, fills recoveredMs', () => {
    const rec = recordFor({ label: 'x', source: 'x.ts', privileges: { to: [], types: [], kcalls: [] } });
    rec.injection = { plan: { kind: 'hang' }, incarnation: 7, at: 0 };
    for (let i = 0; i < FAULT_LOG_LIMIT + 20; i++) {
      recordFault(rec, { at: 1000 + i, incarnation: i, kind: 'throw', message: `#${i}`, requests: [], action: i === 0 ? 'give-up' : 'restart' });
    }
    expect(rec.faultLog).toHaveLength(FAULT_LOG_LIMIT);
    expect(rec.faultLog[0]!.message).toBe('#20');
    expect(rec.lastFault).toMatchObject({ message: `#${FAULT_LOG_LIMIT + 19}` });
    const r7 = recordFault(rec, { at: 5000, incarnation: 7, kind: 'hang', message: 'h', requests: ['a.b'], action: 'restart' });
    expect(r7.injected).toBe('hang');
    markRecovered(rec, 5100);
    expect(r7.recoveredMs).toBe(100);
    expect(rec.faultLog.every((f) => f.recoveredMs !== null)).toBe(true);
    expect(incarnationIn('x#12 failed in init (throw): no', 'x')).toBe(12);
    expect(incarnationIn('something else', 'x')).toBe(null);
  });
});
