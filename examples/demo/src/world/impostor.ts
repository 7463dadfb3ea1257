// The impostor scene: a plain MQTT.js client that tries what an attacker on the network would try, and
// what the demo broker's identity-binding ACL (`agentTopicAcl`) answers. Every attempt reports the MQTT 5
// reason code the broker sent back, so the narration shows the broker's own words, not ours.
import { a2aRequestTopic, mcpRpcFilter } from '@mqtt-agents/core';
import mqtt from 'mqtt';
import type { ErrorWithReasonCode, MqttClient } from 'mqtt';
import { ORG, UNIT } from './start-world.js';

const REASONS: Record<number, string> = {
  0x00: 'accepted',
  0x85: 'Client identifier not valid',
  0x87: 'Not authorized',
};

function reason(code: number | undefined): string {
  const value = code ?? 0;
  return `0x${value.toString(16).padStart(2, '0')} ${REASONS[value] ?? 'refused'}`;
}

function reasonOf(error: unknown): number | undefined {
  const code = (error as Partial<ErrorWithReasonCode>).code;
  if (typeof code === 'number') return code;
  // MQTT.js rejects a refused SUBSCRIBE with the SUBACK packet attached.
  const granted = (error as { packet?: { granted?: unknown[] } }).packet?.granted?.[0];
  return typeof granted === 'number' ? granted : undefined;
}

/** The SUBACK reason code for one filter. */
function subscribe(client: MqttClient, filter: string): Promise<number | undefined> {
  return client.subscribeAsync(filter, { qos: 1 }).then(
    ([grant]) => grant?.qos,
    (error: unknown) => reasonOf(error),
  );
}

export interface ImpostorAttempt {
  readonly attempt: string;
  /** What the broker answered, as `0x87 Not authorized`. */
  readonly answer: string;
  /** True when the broker refused it. */
  readonly refused: boolean;
}

/**
 * Try, as client `mallory`: to connect with the client id `#` (which would make every `{client-id}` level
 * of the ACL a wildcard), to read every MCP session, to read the planner's requests, and to plant a
 * retained request that the planner would run again on every restart.
 */
export async function tryImpostor(
  brokerUrl: string,
  target: { mcpClientId: string; serverId: string; serverName: string },
): Promise<ImpostorAttempt[]> {
  const attempts: ImpostorAttempt[] = [];
  const note = (attempt: string, code: number | undefined): void => {
    attempts.push({ attempt, answer: reason(code), refused: (code ?? 0) >= 0x80 });
  };
  const options = { protocolVersion: 5 as const, reconnectPeriod: 0, connectTimeout: 5_000 };

  const wildcard = await mqtt.connectAsync(brokerUrl, { ...options, clientId: '#' }).then(
    async (client) => {
      await client.endAsync();
      return 0;
    },
    (error: unknown) => reasonOf(error),
  );
  note('connect with client id "#"', wildcard);

  const mallory = await mqtt.connectAsync(brokerUrl, { ...options, clientId: 'mallory' });
  try {
    // What an attacker types: every session's RPC topic at once.
    const sessions = '$mcp-rpc/#';
    note(`subscribe ${sessions}`, await subscribe(mallory, sessions));
    const theirs = mcpRpcFilter({
      mcpClientId: target.mcpClientId,
      serverId: target.serverId,
      serverNameFilter: target.serverName,
    });
    note(`subscribe ${theirs}`, await subscribe(mallory, theirs));
    const requests = a2aRequestTopic({ orgId: ORG, unitId: UNIT, agentId: 'planner' });
    note(`subscribe ${requests}`, await subscribe(mallory, requests));
    const planted = await mallory
      .publishAsync(requests, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'SendMessage', params: {} }), {
        qos: 1,
        retain: true,
      })
      .then(
        () => 0, // MQTT.js rejects a PUBACK whose reason code is an error
        (error: unknown) => reasonOf(error),
      );
    note(`publish a retained SendMessage on ${requests}`, planted);
  } finally {
    await mallory.endAsync();
  }
  return attempts;
}
