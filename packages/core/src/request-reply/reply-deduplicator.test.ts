import { describe, expect, it } from 'vitest';
import type { MqttMessage } from '../connection/types.js';
import { ReplyDeduplicator } from './reply-deduplicator.js';

function text(message: MqttMessage): string {
  return new TextDecoder().decode(message.payload);
}

function message(payload: string): MqttMessage {
  return {
    topic: 'test/reply/inbox',
    payload: new TextEncoder().encode(payload),
    qos: 1,
    retain: false,
    dup: false,
    properties: {},
  };
}

describe('ReplyDeduplicator', () => {
  it('by default drops a reply whose payload is byte-identical to a recent one', () => {
    const dedup = new ReplyDeduplicator();
    expect(dedup.isDuplicate(message('a'))).toBe(false);
    expect(dedup.isDuplicate(message('b'))).toBe(false);
    expect(dedup.isDuplicate(message('a'))).toBe(true);
    expect(dedup.isDuplicate(message('ab'))).toBe(false);
  });

  it('forgets payloads that left the window of the last 64 replies', () => {
    const dedup = new ReplyDeduplicator();
    for (let index = 0; index <= 64; index++) expect(dedup.isDuplicate(message(`item ${index}`))).toBe(false);
    expect(dedup.isDuplicate(message('item 64'))).toBe(true);
    expect(dedup.isDuplicate(message('item 0'))).toBe(false);
  });

  it('uses a caller key for the whole request, and undefined keys are never duplicates', () => {
    const dedup = new ReplyDeduplicator((reply) =>
      text(reply).startsWith('#') ? undefined : text(reply)[0],
    );
    expect(dedup.isDuplicate(message('1 first'))).toBe(false);
    expect(dedup.isDuplicate(message('1 same key, other payload'))).toBe(true);
    expect(dedup.isDuplicate(message('# no key'))).toBe(false);
    expect(dedup.isDuplicate(message('# no key'))).toBe(false);
  });

  it('can be switched off', () => {
    const dedup = new ReplyDeduplicator(false);
    expect(dedup.isDuplicate(message('a'))).toBe(false);
    expect(dedup.isDuplicate(message('a'))).toBe(false);
  });
});
