import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the command runner for embedding; run: the process entry the bin script imports.
  entry: ['src/index.ts', 'src/run.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts'] },
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
