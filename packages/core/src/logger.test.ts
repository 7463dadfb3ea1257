import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger, type Logger } from './logger.js';

const originalDebug = process.env.DEBUG;
afterEach(() => {
  if (originalDebug === undefined) delete process.env.DEBUG;
  else process.env.DEBUG = originalDebug;
});

describe('createLogger', () => {
  it('returns the user-supplied logger unchanged', () => {
    const mine: Logger = { debug() {}, info() {}, warn() {}, error() {} };
    expect(createLogger('mqtt-agents:core', mine)).toBe(mine);
  });

  it('is silent when DEBUG does not enable the namespace', () => {
    process.env.DEBUG = 'other:*';
    const lines: string[] = [];
    createLogger('mqtt-agents:core', undefined, (line) => lines.push(line)).error('boom');
    expect(lines).toEqual([]);
  });

  it('writes namespaced lines when DEBUG enables the namespace with a wildcard', () => {
    process.env.DEBUG = 'mqtt-agents:*';
    const lines: string[] = [];
    const logger = createLogger('mqtt-agents:mcp', undefined, (line) => lines.push(line));
    logger.warn('dropped message', { topic: 'a/b' }, new Error('bad json'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/mqtt-agents:mcp warn dropped message \{"topic":"a\/b"\} Error: bad json$/);
  });

  it('honours comma-separated lists and exclusions', () => {
    process.env.DEBUG = 'mqtt-agents:core,-mqtt-agents:mcp';
    const lines: string[] = [];
    createLogger('mqtt-agents:core', undefined, (line) => lines.push(line)).info('a');
    createLogger('mqtt-agents:mcp', undefined, (line) => lines.push(line)).info('b');
    expect(lines.map((line) => line.split(' ').pop())).toEqual(['a']);
  });

  it('silentLogger drops everything', () => {
    expect(() => silentLogger.error('x')).not.toThrow();
  });
});
