import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the command runner for embedding; run: the process entry the bin script imports.
  entry: ['src/index.ts', 'src/run.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts'] },
  clean: true,
  // Keep class and function names as written (`MqttAgentsError`, not the bundler's `_MqttAgentsError`) in
  // stack traces and `constructor.name`.
  keepNames: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
