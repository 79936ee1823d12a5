/**
 * Update corpus: `zoo`, version 1 — a list whose elements are a union of two plain
 * interfaces with no discriminant field: a `Cat` has `lives`, a `Dog` has `tricks`.
 * Only the fields tell them apart, so a transfer must keep every element the member
 * it is.
 *
 * Protocol (every zoo version): `zoo.cat { name, lives }`, `zoo.dog { name, trick }`
 * (a new dog, or one more trick for the dog of that name), `zoo.add { tag }` (a cat
 * named `tag`), `zoo.dump {}` → every pet, in order, as `['cat', name, lives]` or
 * `['dog', name, tricks]`.
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'zoo.cat': t.object({ name: t.string, lives: t.int }),
  'zoo.dog': t.object({ name: t.string, trick: t.string }),
  'zoo.add': t.object({ tag: t.string }),
  'zoo.dump': t.object({}),
} as const;

interface Cat {
  name: string;
  lives: number;
}

interface Dog {
  name: string;
  tricks: string[];
}

interface ZooState {
  pets: Array<Cat | Dog>;
}

const isDog = (p: Cat | Dog): p is Dog => 'tricks' in p;

export default defineServer<ZooState, typeof protocol>({
  protocol,
  init: () => ({ pets: [] }),
  handlers: {
    'zoo.cat': (s, msg) => {
      s.pets.push({ name: msg.name, lives: msg.lives });
    },
    'zoo.dog': (s, msg) => {
      const dog = s.pets.find((p): p is Dog => isDog(p) && p.name === msg.name);
      if (dog) dog.tricks.push(msg.trick);
      else s.pets.push({ name: msg.name, tricks: [msg.trick] });
    },
    'zoo.add': (s, msg, ctx) => {
      s.pets.push({ name: msg.tag, lives: 1 });
      return ok({ tag: msg.tag, inc: ctx.self.incarnation });
    },
    'zoo.dump': (s) => ok({ pets: s.pets.map((p) => (isDog(p) ? ['dog', p.name, p.tricks] : ['cat', p.name, p.lives])), opened: null }),
  },
});
