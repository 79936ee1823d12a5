/**
 * Update corpus: `zoo`, version 2 — v1 with one field added to the state root
 * (`opened`, from this version's `init`). The pets' union is unchanged: a transfer
 * from v1 must leave every cat a cat and every dog a dog. Same protocol as v1.
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
  opened: string;
}

const isDog = (p: Cat | Dog): p is Dog => 'tricks' in p;

export default defineServer<ZooState, typeof protocol>({
  protocol,
  init: () => ({ pets: [], opened: 'since v2' }),
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
    'zoo.dump': (s) => ok({ pets: s.pets.map((p) => (isDog(p) ? ['dog', p.name, p.tricks] : ['cat', p.name, p.lives])), opened: s.opened }),
  },
});
