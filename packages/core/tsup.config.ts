import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/grammar.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // Keep class and function names as written (`MqttAgentsError`, not the bundler's `_MqttAgentsError`) in
  // stack traces and `constructor.name`.
  keepNames: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['mqtt'],
});
