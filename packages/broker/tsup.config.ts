import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/vitest.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/vitest.ts'] },
  clean: true,
  // Keep class and function names as written (`MqttAgentsError`, not the bundler's `_MqttAgentsError`) in
  // stack traces and `constructor.name`.
  keepNames: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
});
