/**
 * echo: print the arguments, separated by spaces, and a newline. `-n`: no newline;
 * `-e`: interpret backslash escapes (\n \t \\ \c …); `-E`: do not (the default).
 *
 * Entry points: default `main(argv)`; `echoText`.
 */
import { print } from 'libc';

export function echoText(args: readonly string[]): string {
  let newline = true;
  let escapes = false;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (!/^-[neE]+$/.test(a)) break;
    for (const f of a.slice(1)) {
      if (f === 'n') newline = false;
      else if (f === 'e') escapes = true;
      else escapes = false;
    }
  }
  let text = args.slice(i).join(' ');
  if (escapes) {
    const cut = text.indexOf('\\c');
    if (cut >= 0) {
      text = text.slice(0, cut);
      newline = false;
    }
    text = text.replace(/\\([\\abefnrtv0])/g, (_m, c: string) => ({ '\\': '\\', a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', 0: '\0' })[c] ?? c);
  }
  return newline ? `${text}\n` : text;
}

export default async function main(argv: readonly string[]): Promise<number> {
  try {
    await print(echoText(argv.slice(1)));
    return 0;
  } catch {
    return 1; // standard output closed
  }
}
