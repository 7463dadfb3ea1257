import { MqttAgentsError } from '@mqtt-agents/core';
import { describe, expect, it } from 'vitest';
import { ArtifactAssembler } from './binary-artifacts.js';
import type { BinaryChunk } from './binary-artifacts.js';

function chunk(seqno: number, last: boolean, text: string, artifactId = 'a'): BinaryChunk {
  return {
    taskId: 't',
    contextId: 'c',
    artifactId,
    seqno,
    last,
    bytes: new TextEncoder().encode(text),
    mediaType: 'text/plain',
    name: undefined,
    filename: undefined,
  };
}

function text(response: ReturnType<ArtifactAssembler['add']>): string {
  const content =
    response?.payload?.$case === 'artifactUpdate'
      ? response.payload.value.artifact?.parts[0]?.content
      : undefined;
  return content?.$case === 'raw' ? new TextDecoder().decode(content.value) : '';
}

describe('ArtifactAssembler', () => {
  it('completes an artifact once its last chunk and every earlier chunk arrived, in any order', () => {
    const assembler = new ArtifactAssembler();
    expect(assembler.add(chunk(2, true, 'c'))).toBeUndefined();
    expect(assembler.add(chunk(0, false, 'a'))).toBeUndefined();
    expect(assembler.add(chunk(0, false, 'a'))).toBeUndefined(); // duplicate
    expect(text(assembler.add(chunk(1, false, 'b')))).toBe('abc');
    expect(assembler.flush()).toEqual([]);
  });

  it('keeps artifacts apart and hands out an unfinished but gap-free artifact at the end of the stream', () => {
    const assembler = new ArtifactAssembler();
    assembler.add(chunk(0, false, 'x', 'first'));
    assembler.add(chunk(1, false, 'y', 'first'));
    expect(text(assembler.add(chunk(0, true, 'z', 'second')))).toBe('z');
    const [rest] = assembler.flush();
    expect(text(rest)).toBe('xy');
    expect(rest?.payload?.$case === 'artifactUpdate' && rest.payload.value.lastChunk).toBe(false);
  });

  it('refuses gaps, chunks after the last one and artifacts over the size limit', () => {
    const gap = new ArtifactAssembler();
    gap.add(chunk(0, false, 'a'));
    gap.add(chunk(2, false, 'c'));
    expect(() => gap.flush()).toThrow(/missing chunks/);
    const late = new ArtifactAssembler();
    late.add(chunk(1, true, 'b'));
    expect(() => late.add(chunk(2, false, 'c'))).toThrow(/after its last chunk/);
    const big = new ArtifactAssembler(3);
    big.add(chunk(0, false, 'ab'));
    const error = (() => {
      try {
        big.add(chunk(1, false, 'cd'));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(MqttAgentsError.hasCode(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
  });
});
