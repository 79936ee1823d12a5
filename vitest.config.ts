import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Programs import libc by name (the kernel's loader resolves it when it builds them).
  resolve: { alias: { 'libc/format': new URL('./src/lib/libc/format.ts', import.meta.url).pathname, libc: new URL('./src/lib/libc/index.ts', import.meta.url).pathname } },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test file boots its own systems; two cores, so keep the parallelism modest.
    maxWorkers: 2,
  },
});
