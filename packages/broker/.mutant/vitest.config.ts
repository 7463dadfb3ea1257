import { defineConfig } from 'vitest/config';
const conditions = ['@mqtt-agents/source', 'node', 'import', 'module', 'default'];
export default defineConfig({
  root: '/work/main',
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/broker/.mutant/test/**/*.test.ts'],
    env: { MQTT_AGENTS_TEST_BROKER: 'embedded' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default'],
  },
});
