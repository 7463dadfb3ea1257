import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['mqtt', '@modelcontextprotocol/sdk', '@a2a-js/sdk', '@mqtt-agents/core'],
});
