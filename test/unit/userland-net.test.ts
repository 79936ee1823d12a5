/** The network programs' pure parts: nc's arguments, netstat's table. */
import { describe, expect, it } from 'vitest';
import { parseNcArgs } from '../../src/user/bin/nc.js';
import { formatNetstat } from '../../src/user/bin/netstat.js';

describe('nc arguments', () => {
  it('client and listen modes, with defaults', () => {
    expect(parseNcArgs(['example', '80'])).toEqual({ mode: 'connect', host: 'example', port: 80 });
    expect(parseNcArgs(['-l', '7000'])).toEqual({ mode: 'listen', host: '127.0.0.1', port: 7000, keep: false, echo: false });
    expect(parseNcArgs(['-l', '-k', '-e', '::1', '0'])).toEqual({ mode: 'listen', host: '::1', port: 0, keep: true, echo: true });
  });
  it('bad arguments are explained', () => {
    expect(parseNcArgs([])).toMatchObject({ mode: 'error', message: 'nc needs HOST and PORT' });
    expect(parseNcArgs(['h', '99999'])).toMatchObject({ mode: 'error', message: 'bad port 99999' });
    expect(parseNcArgs(['h', '0'])).toMatchObject({ mode: 'error' });
    expect(parseNcArgs(['-x', 'h', '1'])).toMatchObject({ mode: 'error', message: 'unknown option -x' });
    expect(parseNcArgs(['-k', 'h', '1'])).toMatchObject({ mode: 'error', message: '-k and -e go with -l' });
    expect(parseNcArgs(['-l'])).toMatchObject({ mode: 'error' });
  });
});

describe('netstat table', () => {
  it('one row per socket, sorted, IPv6 in brackets', () => {
    const text = formatNetstat([
      { sock: 2, owner: 'kvd', state: 'connected', local: { host: '127.0.0.1', port: 6380 }, remote: { host: '::1', port: 5000 }, rxQueued: 0, backlog: 0, watched: true, rxBytes: 10, txBytes: 20 },
      { sock: 1, owner: 'kvd', state: 'listening', local: { host: '127.0.0.1', port: 6380 }, remote: null, rxQueued: 0, backlog: 3, watched: true, rxBytes: 0, txBytes: 0 },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SOCK\s+OWNER\s+STATE\s+LOCAL\s+REMOTE\s+RX\s+TX\s+QUEUED\s+BACKLOG$/);
    expect(lines[1]).toMatch(/^1\s+kvd\s+listening\s+127\.0\.0\.1:6380\s+-\s+0\s+0\s+0\s+3$/);
    expect(lines[2]).toMatch(/^2\s+kvd\s+connected\s+127\.0\.0\.1:6380\s+\[::1\]:5000\s+10\s+20\s+0\s+0$/);
  });
});
