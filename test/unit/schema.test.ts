import { describe, expect, it } from 'vitest';
import { t, validate } from '../../src/sys/schema.js';

describe('schema', () => {
  const s = t.object({ key: t.string, n: t.optional(t.int), tags: t.array(t.oneOf('a', 'b')) });
  it('accepts a well-formed value', () => {
    expect(validate(s, { key: 'k', tags: ['a', 'b'] })).toBeNull();
  });
  it('names the offending path', () => {
    expect(validate(s, { key: 1, tags: [] })).toBe('key: expected string, got number');
    expect(validate(s, { key: 'k', n: 1.5, tags: [] })).toBe('n: expected integer, got number');
    expect(validate(s, { key: 'k', tags: ['c'] })).toBe('tags[1]: expected one of a|b, got "c"'.replace('[1]', '[0]'));
  });
});
