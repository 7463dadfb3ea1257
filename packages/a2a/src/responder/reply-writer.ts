// Stage: reply writer. Publishes every answer of a request (QoS 1, Correlation Data echoed), with the user
// properties each reply carries, sealed by the request's security profile, and artifact updates as binary
// chunks when the binary artifact mode was chosen. Failures are logged: the requester will retry.
import { A2AUserProperty, createPublishProperties, jsonRpcErrorResponse } from '@mqtt-agents/core';
import type { JsonRpcId, Logger, MqttConnection, MqttPublishProperties } from '@mqtt-agents/core';
import type { TaskArtifactUpdateEvent } from '@a2a-js/sdk';
import {
  ARTIFACT_FILENAME_PROPERTY,
  ARTIFACT_NAME_PROPERTY,
  DEFAULT_CHUNK_BYTES,
  binaryPartOf,
} from '../binary-artifacts.js';
import type { BinaryArtifactOptions } from '../binary-artifacts.js';
import { bindingErrorObject } from '../binding-errors.js';
import type { BindingErrorKind } from '../binding-errors.js';
import { RecentMap } from '../recent-map.js';
import type { ReplyContext } from './context.js';

export interface ReplyWriterOptions {
  readonly connection: MqttConnection;
  /** This agent's id: the `a2a-responder-agent-id` of replies to pooled requests. */
  readonly agentId: string;
  readonly logger: Logger;
  /** Binary artifact mode options; undefined when the mode is off. */
  readonly binary: BinaryArtifactOptions | undefined;
}

/** Next `a2a-chunk-seqno` per artifact of one stream. */
export type ChunkSeqnos = Map<string, number>;

export class ReplyWriter {
  readonly #options: ReplyWriterOptions;
  /** taskId -> the agent instance the task was handed over to. */
  readonly #handovers = new RecentMap<string, string>({ ttlMs: 24 * 60 * 60_000, maxEntries: 10_000 });

  constructor(options: ReplyWriterOptions) {
    this.#options = options;
  }

  /** From now on, replies about `taskId` name `agentId` (undefined: this agent again). */
  handOver(taskId: string, agentId: string | undefined): void {
    if (agentId === undefined) this.#handovers.delete(taskId);
    else this.#handovers.set(taskId, agentId);
  }

  async replyError(
    context: ReplyContext,
    id: JsonRpcId | null,
    kind: BindingErrorKind,
    message: string,
  ): Promise<void> {
    await this.reply(context, jsonRpcErrorResponse(id, bindingErrorObject(kind, message)));
  }

  /** Publish one JSON reply, sealed when the request came under a security profile. */
  async reply(context: ReplyContext, body: unknown): Promise<void> {
    const { topic, correlationData } = context.reply;
    try {
      let userProperties = this.#userProperties(context);
      let payload = JSON.stringify(body);
      let contentType = 'application/json';
      if (context.sealer) {
        const sealed = await context.sealer.sealReply(payload, correlationData, userProperties);
        ({ payload, contentType, userProperties } = sealed);
      }
      const properties = createPublishProperties({
        contentType,
        ...(correlationData === undefined ? {} : { correlationData }),
        ...(Object.keys(userProperties).length === 0 ? {} : { userProperties }),
      }) as MqttPublishProperties;
      await this.#options.connection.publish(topic, payload, { qos: 1, properties });
    } catch (error) {
      this.#options.logger.warn(`could not publish a reply to '${topic}'`, error);
    }
  }

  /**
   * Publish an artifact update as raw binary chunks (profile, binary artifact mode): payload format 0, the
   * part's media type as Content Type, and the chunk metadata as user properties. False when the update is
   * not a single raw part, which then goes as JSON.
   */
  async replyBinary(
    context: ReplyContext,
    update: TaskArtifactUpdateEvent,
    seqnos: ChunkSeqnos,
  ): Promise<boolean> {
    const part = binaryPartOf(update);
    const artifact = update.artifact;
    if (!part || !artifact || part.content?.$case !== 'raw') return false;
    const { connection, logger, binary } = this.#options;
    const { topic, correlationData } = context.reply;
    const bytes: Uint8Array = part.content.value;
    const maxPacket = connection.connack.maximumPacketSize;
    const chunkBytes = Math.max(
      1,
      Math.min(
        binary?.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        maxPacket === undefined ? Infinity : maxPacket - 4096,
      ),
    );
    const artifactKey = `${update.taskId}\n${artifact.artifactId}`;
    const base = this.#userProperties(context);
    const pieces = Math.max(1, Math.ceil(bytes.byteLength / chunkBytes));
    for (let piece = 0; piece < pieces; piece++) {
      const seqno = seqnos.get(artifactKey) ?? 0;
      seqnos.set(artifactKey, seqno + 1);
      const userProperties: Record<string, string> = {
        ...base,
        [A2AUserProperty.EventType]: 'task-artifact-update',
        [A2AUserProperty.TaskId]: update.taskId,
        [A2AUserProperty.ArtifactId]: artifact.artifactId,
        [A2AUserProperty.ChunkSeqno]: String(seqno),
        [A2AUserProperty.LastChunk]: String(update.lastChunk && piece === pieces - 1),
      };
      if (update.contextId) userProperties[A2AUserProperty.ContextId] = update.contextId;
      if (artifact.name) userProperties[ARTIFACT_NAME_PROPERTY] = artifact.name;
      if (part.filename) userProperties[ARTIFACT_FILENAME_PROPERTY] = part.filename;
      try {
        const properties = createPublishProperties({
          payloadFormat: 'bytes',
          ...(part.mediaType ? { contentType: part.mediaType } : {}),
          ...(correlationData === undefined ? {} : { correlationData }),
          userProperties,
        }) as MqttPublishProperties;
        await connection.publish(
          topic,
          bytes.subarray(piece * chunkBytes, Math.min(bytes.byteLength, (piece + 1) * chunkBytes)),
          { qos: 1, properties },
        );
      } catch (error) {
        logger.warn(`could not publish an artifact chunk to '${topic}'`, error);
      }
    }
    return true;
  }

  /** `a2a-responder-agent-id` for a reply: the task's handover target, else this agent for pooled requests. */
  #responderIdFor(context: ReplyContext): string | undefined {
    const handedTo = context.taskId === undefined ? undefined : this.#handovers.get(context.taskId);
    return handedTo ?? (context.reply.pooled ? this.#options.agentId : undefined);
  }

  /** The user properties every reply of a request carries (responder id, artifact mode). */
  #userProperties(context: ReplyContext): Record<string, string> {
    const userProperties: Record<string, string> = {};
    const responderId = this.#responderIdFor(context);
    if (responderId !== undefined) userProperties[A2AUserProperty.ResponderAgentId] = responderId;
    if (context.artifactMode !== undefined)
      userProperties[A2AUserProperty.ArtifactMode] = context.artifactMode;
    return userProperties;
  }
}
