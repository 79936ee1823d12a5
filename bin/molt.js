#!/usr/bin/env node
// The `molt` command. Runs the TypeScript CLI through tsx (components themselves run
// as esbuild bundles in worker threads; see src/kernel/loader.ts).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
