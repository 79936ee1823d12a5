/**
 * kvd: Redis glob-style patterns (KEYS, CONFIG GET): `*` any run, `?` one char,
 * `[abc]` `[^abc]` `[a-z]` a class, `\x` a literal x. Case-sensitive unless `nocase`.
 *
 * Entry point: `globMatch(pattern, s, nocase?)`.
 */
export function globMatch(pattern: string, s: string, nocase = false): boolean {
  if (pattern === '*') return true;
  return match(pattern, 0, s, 0, nocase);
}

const lower = (c: string) => c.toLowerCase();

function match(p: string, pi: number, s: string, si: number, nocase: boolean): boolean {
  const pn = p.length;
  const sn = s.length;
  while (pi < pn) {
    const c = p[pi]!;
    switch (c) {
      case '*': {
        while (pi + 1 < pn && p[pi + 1] === '*') pi++;
        if (pi + 1 === pn) return true;
        for (let k = si; k <= sn; k++) if (match(p, pi + 1, s, k, nocase)) return true;
        return false;
      }
      case '?':
        if (si >= sn) return false;
        si++;
        break;
      case '[': {
        if (si >= sn) return false;
        pi++;
        const not = p[pi] === '^';
        if (not) pi++;
        let hit = false;
        const ch = nocase ? lower(s[si]!) : s[si]!;
        for (;;) {
          if (pi >= pn) {
            pi--; // an unterminated class ends at the pattern's end
            break;
          }
          const d = p[pi]!;
          if (d === ']') break;
          if (d === '\\' && pi + 1 < pn) {
            pi++;
            if ((nocase ? lower(p[pi]!) : p[pi]) === ch) hit = true;
          } else if (pi + 2 < pn && p[pi + 1] === '-') {
            let a = p[pi]!;
            let b = p[pi + 2]!;
            if (nocase) {
              a = lower(a);
              b = lower(b);
            }
            if (a > b) [a, b] = [b, a];
            if (ch >= a && ch <= b) hit = true;
            pi += 2;
          } else if ((nocase ? lower(d) : d) === ch) {
            hit = true;
          }
          pi++;
        }
        if (not) hit = !hit;
        if (!hit) return false;
        si++;
        break;
      }
      case '\\':
        if (pi + 1 < pn) pi++;
      // falls through: the escaped char is a literal
      default:
        if (si >= sn) return false;
        if (nocase ? lower(p[pi]!) !== lower(s[si]!) : p[pi] !== s[si]) return false;
        si++;
    }
    pi++;
  }
  return si === sn;
}
