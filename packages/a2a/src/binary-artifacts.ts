// Native binary artifact mode (`a2a-artifact-mode=binary`): artifact bytes travel as raw MQTT payloads in
// numbered chunks instead of base64 inside JSON. Responders split; requesters reassemble.
import type { Part, StreamResponse, TaskArtifactUpdateEvent } from '@a2a-js/sdk';
import { A2AEventType, A2AUserProperty, MqttAgentsError, getUserProperty } from '@mqtt-agents/core';
import type { MqttMessage } from '@mqtt-agents/core';

/** Binary artifact mode on the agent side (`serveA2AOverMqtt({ binaryArtifacts })`). */
export interface BinaryArtifactOptions {
  /** Largest chunk payload, in bytes; also capped by the broker's Maximum Packet Size. Default 128 KiB. */
  chunkBytes?: number;
}

/** Our own `a2a-` properties on binary chunks, so the requester can rebuild the artifact's name and file name. */
export const ARTIFACT_NAME_PROPERTY = 'a2a-artifact-name';
export const ARTIFACT_FILENAME_PROPERTY = 'a2a-filename';

export const DEFAULT_CHUNK_BYTES = 128 * 1024;

/** The bytes of an artifact update that can travel as binary chunks: exactly one raw part. */
export function binaryPartOf(update: TaskArtifactUpdateEvent): Part | undefined {
  const parts = update.artifact?.parts ?? [];
  if (parts.length !== 1) return undefined;
  const part = parts[0] as Part;
  return part.content?.$case === 'raw' ? part : undefined;
}

/** One received binary chunk, with the metadata the profile requires. */
export interface BinaryChunk {
  readonly taskId: string;
  readonly contextId: string | undefined;
  readonly artifactId: string;
  readonly seqno: number;
  readonly last: boolean;
  readonly bytes: Uint8Array;
  readonly mediaType: string | undefined;
  readonly name: string | undefined;
  readonly filename: string | undefined;
}

/**
 * The binary chunk a reply carries, or undefined for an ordinary (JSON) reply. A reply that says it is an
 * artifact chunk (`a2a-event-type=task-artifact-update`) but lacks the required metadata is a protocol error.
 */
export function readBinaryChunk(reply: MqttMessage): BinaryChunk | undefined {
  const properties = reply.properties;
  if (getUserProperty(properties, A2AUserProperty.EventType) !== A2AEventType.TaskArtifactUpdate)
    return undefined;
  const taskId = getUserProperty(properties, A2AUserProperty.TaskId);
  const artifactId = getUserProperty(properties, A2AUserProperty.ArtifactId);
  const seqnoText = getUserProperty(properties, A2AUserProperty.ChunkSeqno);
  const lastText = getUserProperty(properties, A2AUserProperty.LastChunk);
  const problems: string[] = [];
  if (!taskId) problems.push(A2AUserProperty.TaskId);
  if (!artifactId) problems.push(A2AUserProperty.ArtifactId);
  if (seqnoText === undefined || !/^(0|[1-9][0-9]{0,8})$/.test(seqnoText))
    problems.push(A2AUserProperty.ChunkSeqno);
  if (lastText !== 'true' && lastText !== 'false') problems.push(A2AUserProperty.LastChunk);
  if (properties.payloadFormatIndicator === true) problems.push('payload format indicator (must be 0)');
  if (problems.length > 0) {
    throw new MqttAgentsError(
      'PROTOCOL_ERROR',
      `binary artifact chunk with missing or invalid ${problems.join(', ')}`,
      {
        details: { topic: reply.topic, problems },
      },
    );
  }
  return {
    taskId: taskId as string,
    contextId: getUserProperty(properties, A2AUserProperty.ContextId),
    artifactId: artifactId as string,
    seqno: Number(seqnoText),
    last: lastText === 'true',
    bytes: reply.payload,
    mediaType: properties.contentType,
    name: getUserProperty(properties, ARTIFACT_NAME_PROPERTY),
    filename: getUserProperty(properties, ARTIFACT_FILENAME_PROPERTY),
  };
}

/** True when a reply is (or claims to be) a binary artifact chunk. */
export function isBinaryChunk(reply: MqttMessage): boolean {
  return getUserProperty(reply.properties, A2AUserProperty.EventType) === A2AEventType.TaskArtifactUpdate;
}

interface Assembly {
  readonly first: BinaryChunk;
  readonly chunks: Map<number, Uint8Array>;
  lastSeqno: number | undefined;
  bytes: number;
}

function concat(chunks: Map<number, Uint8Array>, count: number, total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (let seqno = 0; seqno < count; seqno++) {
    const chunk = chunks.get(seqno) as Uint8Array;
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function toBuffer(bytes: Uint8Array): Part['content'] {
  const from = (globalThis as { Buffer?: { from(bytes: Uint8Array): Uint8Array } }).Buffer;
  return { $case: 'raw', value: (from ? from.from(bytes) : bytes) as never };
}

/** The artifact update a reassembled artifact becomes, as the SDK's client would have received it in JSON. */
function artifactUpdateOf(assembly: Assembly, bytes: Uint8Array, lastChunk: boolean): StreamResponse {
  const first = assembly.first;
  return {
    payload: {
      $case: 'artifactUpdate',
      value: {
        taskId: first.taskId,
        contextId: first.contextId ?? '',
        artifact: {
          artifactId: first.artifactId,
          name: first.name ?? '',
          description: '',
          parts: [
            {
              content: toBuffer(bytes),
              metadata: undefined,
              filename: first.filename ?? '',
              mediaType: first.mediaType ?? '',
            },
          ],
          metadata: undefined,
          extensions: [],
        },
        append: false,
        lastChunk,
        metadata: undefined,
      },
    },
  };
}

/**
 * Reassembles binary artifacts of one reply stream: chunks in any order, duplicates (QoS 1 redelivery)
 * ignored, an artifact complete once its last chunk and every chunk before it arrived.
 */
export class ArtifactAssembler {
  readonly #assemblies = new Map<string, Assembly>();
  readonly #maxBytes: number;

  constructor(maxBytes = 256 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  /** Add a chunk; returns the artifact update when this chunk completes its artifact. */
  add(chunk: BinaryChunk): StreamResponse | undefined {
    const key = `${chunk.taskId}\n${chunk.artifactId}`;
    let assembly = this.#assemblies.get(key);
    if (!assembly) {
      assembly = { first: chunk, chunks: new Map(), lastSeqno: undefined, bytes: 0 };
      this.#assemblies.set(key, assembly);
    }
    if (assembly.chunks.has(chunk.seqno)) return undefined;
    if (assembly.lastSeqno !== undefined && chunk.seqno > assembly.lastSeqno) {
      throw new MqttAgentsError(
        'PROTOCOL_ERROR',
        `binary artifact '${chunk.artifactId}' has chunk ${chunk.seqno} after its last chunk ${assembly.lastSeqno}`,
      );
    }
    assembly.bytes += chunk.bytes.byteLength;
    if (assembly.bytes > this.#maxBytes) {
      throw new MqttAgentsError(
        'PAYLOAD_TOO_LARGE',
        `binary artifact '${chunk.artifactId}' exceeds ${this.#maxBytes} bytes`,
      );
    }
    assembly.chunks.set(chunk.seqno, chunk.bytes);
    if (chunk.last) assembly.lastSeqno = chunk.seqno;
    if (assembly.lastSeqno === undefined || assembly.chunks.size !== assembly.lastSeqno + 1) return undefined;
    this.#assemblies.delete(key);
    return artifactUpdateOf(assembly, concat(assembly.chunks, assembly.chunks.size, assembly.bytes), true);
  }

  /**
   * At the end of the stream: artifacts whose last chunk never came are returned as they are (not final)
   * when no chunk is missing; a gap is a protocol error.
   */
  flush(): StreamResponse[] {
    const out: StreamResponse[] = [];
    for (const assembly of this.#assemblies.values()) {
      const count = assembly.chunks.size;
      const maxSeqno = Math.max(...assembly.chunks.keys());
      if (maxSeqno !== count - 1 || (assembly.lastSeqno !== undefined && assembly.lastSeqno !== maxSeqno)) {
        throw new MqttAgentsError(
          'PROTOCOL_ERROR',
          `binary artifact '${assembly.first.artifactId}' ended with missing chunks (${count} of ${Math.max(maxSeqno, assembly.lastSeqno ?? 0) + 1})`,
        );
      }
      out.push(artifactUpdateOf(assembly, concat(assembly.chunks, count, assembly.bytes), false));
    }
    this.#assemblies.clear();
    return out;
  }
}

/** The `a2a-artifact-mode` values. */
export type ArtifactMode = 'json' | 'binary';
