import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Sibling packages resolve to their TypeScript source through this export condition,
// so `pnpm test` never needs a build first.
const conditions = ['@mqtt-agents/source', 'node', 'import', 'module', 'default'];

function hasMosquitto(): boolean {
  const binary = process.env.MOSQUITTO_BIN ?? 'mosquitto';
  try {
    execFileSync(binary, ['-h'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // `mosquitto -h` exits with status 3 after printing its usage: it is installed.
    return typeof (error as { status?: unknown }).status === 'number';
  }
}

const mosquitto = hasMosquitto();
if (!mosquitto && process.env.MQTT_AGENTS_REQUIRE_MOSQUITTO === '1') {
  throw new Error('MQTT_AGENTS_REQUIRE_MOSQUITTO=1 but no mosquitto binary was found on PATH');
}
if (!mosquitto) {
  process.stderr.write('note: mosquitto not found, the integration-mosquitto lane is skipped\n');
}

const integrationFiles = ['packages/*/test/**/*.test.ts'];
// Broker restarts, killed servers, stuck peers, fuzz and leaks (`pnpm test:reliability`): heap checks need --expose-gc.
const reliability = {
  include: ['test/reliability/**/*.test.ts'],
  execArgv: ['--expose-gc'],
  testTimeout: 120_000,
  hookTimeout: 30_000,
};

// Attacks as tests (`pnpm test:security`): spoofing, wildcard reach, retained abuse, payload
// canonicalisation, replay windows and resource exhaustion, on both brokers where they apply.
const security = {
  include: ['test/security/**/*.test.ts'],
  testTimeout: 60_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  resolve: { conditions },
  // Only our own packages use the source condition; external packages (MQTT.js's `require('ws')`) must
  // resolve exactly as Node resolves them.
  ssr: { resolve: { conditions, externalConditions: ['@mqtt-agents/source'] } },
  test: {
    // The suites wait on loopback I/O far more than they compute, and they are parallel-safe (every file
    // starts its own brokers on free ports), so use every core: vitest's default of cores - 1 runs them one
    // file at a time on a 2-core machine (387 s there, against 213 s with 2 workers).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The JSON report feeds the one-line totals that .ci/run prints.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integrationFiles,
          env: { MQTT_AGENTS_TEST_BROKER: 'embedded' },
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        // The examples run as a user runs them (a spawned process on the embedded broker): smoke tests.
        extends: true,
        test: { name: 'examples', include: ['examples/*/test/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: { name: 'reliability', ...reliability, env: { MQTT_AGENTS_TEST_BROKER: 'embedded' } },
      },
      {
        extends: true,
        test: { name: 'security', ...security, env: { MQTT_AGENTS_TEST_BROKER: 'embedded' } },
      },
      ...(mosquitto
        ? [
            {
              extends: true as const,
              test: {
                name: 'security-mosquitto',
                ...security,
                env: { MQTT_AGENTS_TEST_BROKER: 'mosquitto' },
              },
            },
            {
              extends: true as const,
              test: {
                name: 'integration-mosquitto',
                include: integrationFiles,
                env: { MQTT_AGENTS_TEST_BROKER: 'mosquitto' },
                testTimeout: 20_000,
                hookTimeout: 20_000,
              },
            },
            {
              extends: true as const,
              test: {
                name: 'reliability-mosquitto',
                ...reliability,
                env: { MQTT_AGENTS_TEST_BROKER: 'mosquitto' },
              },
            },
          ]
        : []),
    ],
  },
});
