import type { AgentCard } from '@a2a-js/sdk';
import type { Transport } from '@a2a-js/sdk/client';
import { UserBuilder, agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import type { DiscoveredAgent } from '@mqtt-agents/a2a';
import { A2A_PROTOCOL_VERSION, discoverAgents, mqttTransportFactory } from '@mqtt-agents/a2a';
import { connectMqtt } from '@mqtt-agents/core';
import express from 'express';
import type { RequestHandler } from 'express';
import { defaultA2AVersion } from '../a2a/default-version.js';
import { MqttRelayRequestHandler } from '../a2a/relay-request-handler.js';
import { a2aAgentEntry } from '../discovery/inventory.js';
import { cliLogger } from '../cli-logger.js';
import type { Command, CommandContext } from '../command.js';
import { closeInOrder, serveUntilAborted } from '../command.js';
import { brokerUrl, listenAddress, listenOptions, parseFlags, urlOption } from '../flags.js';
import { listen } from '../http/listen.js';
import { UsageError } from '../io.js';

export const a2aHttpHelp = `Usage: mqtt-agents a2a http [options]

Serve every A2A agent discovered on MQTT to A2A HTTP clients: its Agent Card at
  /a2a/<org>/<unit>/<agent>/.well-known/agent-card.json
with a JSON-RPC interface at /a2a/<org>/<unit>/<agent>/ that relays each call (streams included) to the
agent over MQTT. GET /agents lists them. An A2A client reaches one with its base url, e.g.
ClientFactory.createFromUrl('http://127.0.0.1:8080/a2a/com.acme/travel/planner/').

Options:
  --port <port>          HTTP port (default 8080; 0 picks a free one)
  --host <host>          interface to listen on (default 127.0.0.1)
  --public-url <url>     base url written into the cards (default: the listening address)
  --org <org>            only agents of this org
  --unit <unit>          only agents of this unit (with --org)
  --url <url>            broker url (default: $MQTT_URL, else mqtt://localhost:1883)
  -h, --help             show this help
`;

interface AgentRoute {
  router: RequestHandler;
  transport: Promise<Transport> | undefined;
}

async function a2aHttpCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values } = parseFlags(argv, {
    options: {
      ...urlOption,
      ...listenOptions,
      'public-url': { type: 'string' },
      org: { type: 'string' },
      unit: { type: 'string' },
    },
  });
  if (values.unit !== undefined && values.org === undefined) throw new UsageError('--unit needs --org');
  const { port, host: bindHost } = listenAddress(values, 8080);
  const url = brokerUrl(values.url, context);
  const logger = cliLogger(context, 'mqtt-agents a2a http', context.debug);

  // The bridge is a requester of its own: {org}/{unit}/a2a-http-<random> when scoped, else a random id.
  const suffix = globalThis.crypto.randomUUID().slice(0, 8);
  const identity = {
    org: values.org ?? 'mqtt-agents',
    unit: values.unit ?? 'cli',
    agentId: `a2a-http-${suffix}`,
  };
  const connection = await connectMqtt({
    url,
    clientId: `${identity.org}/${identity.unit}/${identity.agentId}`,
    connectTimeoutMs: 5_000,
    logger,
    signal: context.signal,
  });
  logger.ready();
  const shared = { connection };
  const registry = await discoverAgents({
    mqtt: shared,
    ...(values.org === undefined ? {} : { org: values.org }),
    ...(values.unit === undefined ? {} : { unit: values.unit }),
    logger,
  });
  const transports = mqttTransportFactory({ mqtt: shared, ...identity, logger });
  const routes = new Map<string, AgentRoute>();
  let baseUrl = values['public-url']?.replace(/\/+$/, '') ?? '';

  const agentUrl = (key: string): string => `${baseUrl}/a2a/${key}/`;
  const httpCard = (agent: DiscoveredAgent): AgentCard => ({
    ...agent.card,
    supportedInterfaces: [
      {
        url: agentUrl(agent.key),
        protocolBinding: 'JSONRPC',
        protocolVersion: A2A_PROTOCOL_VERSION,
        tenant: '',
      },
      ...agent.card.supportedInterfaces,
    ],
  });
  const routeFor = (key: string): AgentRoute | undefined => {
    if (!registry.agents.has(key)) return undefined;
    let route = routes.get(key);
    if (!route) {
      const current = (): DiscoveredAgent => {
        const agent = registry.agents.get(key);
        if (!agent) throw new Error(`agent '${key}' is no longer registered`);
        return agent;
      };
      const entry: AgentRoute = { router: express.Router(), transport: undefined };
      const handler = new MqttRelayRequestHandler(
        () => httpCard(current()),
        () => {
          const agent = current();
          entry.transport ??= transports.transportFor({
            org: agent.org,
            unit: agent.unit,
            agentId: agent.agentId,
          });
          return entry.transport;
        },
      );
      const router = express.Router();
      router.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler }));
      router.use(...defaultA2AVersion(A2A_PROTOCOL_VERSION));
      router.use(jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
      entry.router = router;
      route = entry;
      routes.set(key, route);
    }
    return route;
  };

  const app = express();
  app.disable('x-powered-by');
  app.get('/agents', (_request, response) => {
    response.json({
      agents: registry
        .list()
        .map((agent) => ({
          ...a2aAgentEntry(agent),
          url: agentUrl(agent.key),
          card: `${agentUrl(agent.key)}.well-known/agent-card.json`,
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    });
  });
  app.use('/a2a/:org/:unit/:agent', (request, response, next) => {
    const { org, unit, agent } = request.params as { org: string; unit: string; agent: string };
    const key = `${org}/${unit}/${agent}`;
    const route = routeFor(key);
    if (!route) {
      response.status(404).json({ error: `no A2A agent '${key}' on ${url}` });
      return;
    }
    route.router(request, response, next);
  });

  let http;
  try {
    http = await listen(app, bindHost, port);
  } catch (error) {
    await closeInOrder([transports, registry, connection]);
    throw error;
  }
  baseUrl ||= http.baseUrl;
  context.stdout(`mqtt-agents a2a http listening on ${http.baseUrl}, relaying to A2A agents on ${url}\n`);
  const discovery = (async () => {
    for await (const change of registry.changes({ signal: context.signal })) {
      if (change.type === 'added') {
        context.stdout(`+ ${agentUrl(change.key)}  ${change.agent.card.name} (${change.agent.status})\n`);
      } else if (change.type === 'updated' && change.agent.status !== change.previous.status) {
        context.stdout(`~ ${agentUrl(change.key)}  ${change.agent.card.name} (${change.agent.status})\n`);
      } else if (change.type === 'removed') {
        routes.delete(change.key);
        context.stdout(`- ${agentUrl(change.key)}  (card removed)\n`);
      }
    }
  })();

  return serveUntilAborted(context, 'a2a http', [http, transports, registry, connection], discovery);
}

export const a2aHttp: Command = {
  help: a2aHttpHelp,
  run: a2aHttpCommand,
};
