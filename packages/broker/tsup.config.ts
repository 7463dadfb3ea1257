import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/vitest.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/vitest.ts'] },
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
