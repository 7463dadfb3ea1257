import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the SDK-neutral main entry; sdk-v1, sdk-v2/client, sdk-v2/server: what is specific to one SDK
  // major (docs/decisions/0006-one-entry-per-sdk-major.md). The subpaths import the main entry's types by
  // the package's own name, so their declarations share its classes instead of copying them.
  entry: {
    index: 'src/index.ts',
    'sdk-v1': 'src/sdk-v1.ts',
    'sdk-v2/client': 'src/sdk-v2/client.ts',
    'sdk-v2/server': 'src/sdk-v2/server.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // Keep class and function names as written (`MqttAgentsError`, not the bundler's `_MqttAgentsError`) in
  // stack traces and `constructor.name`.
  keepNames: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  external: [
    'mqtt',
    '@modelcontextprotocol/sdk',
    '@modelcontextprotocol/client',
    '@modelcontextprotocol/server',
    '@a2a-js/sdk',
    '@mqtt-agents/core',
    '@mqtt-agents/mcp',
  ],
});
