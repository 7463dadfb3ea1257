// `mcp serve` stopped (SIGTERM) at the moment its broker went away: it must not wait, reconnecting, on a
// broker that is not coming back; it exits, saying the presence is left to the will.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import { describe, expect, it } from 'vitest';
import { cli, serverEverything, unique } from './cli-process.js';

describe('mqtt-agents mcp serve when the broker goes away as it stops', () => {
  it('exits after SIGTERM although the broker is gone', { timeout: 90_000 }, async () => {
    const broker = await startTestBroker();
    const name = `gone/${unique('tools')}`;
    await using serve = cli([
      'mcp',
      'serve',
      '--url',
      broker.url,
      '--name',
      name,
      '--drain-grace',
      '500',
      '--',
      ...serverEverything,
    ]);
    await serve.waitFor(/serving '/);
    await broker.close();
    serve.child.kill('SIGTERM');
    expect(await serve.exit).toBe(0);
    expect(serve.stderr()).toMatch(/the broker is unreachable/);
  });
});
