/**
 * Network listeners: TCP, TLS and WebSocket (subprotocol `mqtt`). Each hands its connections to the
 * broker as duplex streams; TCP and TLS sockets get TCP_NODELAY.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type {
  HandleOptions,
  PeerCertificate,
  TlsListenerOptions,
  WebSocketListenerOptions,
} from './types.js';

export type ListenerKind = 'tcp' | 'tls' | 'ws';

export interface Listener {
  readonly kind: ListenerKind;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export type ConnectionHandler = (stream: Duplex, options: HandleOptions) => void;

/** The host part of a URL to reach a listener: a wildcard address becomes loopback. */
function formatHost(host: string): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return reachable.includes(':') ? `[${reachable}]` : reachable;
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

function prepareSocket(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', () => {
    // Reported by the connection's own error listener; this one only keeps an early error from throwing.
  });
}

export async function listenTcp(
  host: string,
  port: number,
  onConnection: ConnectionHandler,
): Promise<Listener> {
  const server = createNetServer({ noDelay: true }, (socket) => {
    prepareSocket(socket);
    onConnection(socket, { transport: 'tcp', remoteAddress: socket.remoteAddress });
  });
  const boundPort = await listen(server, host, port);
  return {
    kind: 'tcp',
    host,
    port: boundPort,
    url: `mqtt://${formatHost(host)}:${boundPort}`,
    close: () => closeServer(server),
  };
}

/** The client certificate of a TLS socket when its chain verified against the listener's `ca`, else undefined. */
function verifiedPeerCertificate(socket: TLSSocket): PeerCertificate | undefined {
  if (!socket.authorized) return undefined;
  const certificate = socket.getPeerCertificate();
  if (!certificate || typeof certificate.fingerprint256 !== 'string' || !certificate.subject)
    return undefined;
  const subject: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(certificate.subject)) {
    if (typeof value === 'string' || Array.isArray(value)) subject[key] = value;
  }
  return Object.freeze({
    subject: Object.freeze(subject),
    fingerprint256: certificate.fingerprint256,
    authorized: true,
  });
}

export async function listenTls(
  host: string,
  options: TlsListenerOptions,
  onConnection: ConnectionHandler,
): Promise<Listener> {
  const listenHost = options.host ?? host;
  const requestCert = options.requestCert === true;
  if (requestCert && options.ca === undefined) {
    throw new TypeError(
      'invalid broker option tls.requestCert: client certificates need tls.ca to verify them',
    );
  }
  const server = createTlsServer(
    {
      key: options.key,
      cert: options.cert,
      ca: options.ca,
      requestCert,
      rejectUnauthorized: requestCert && options.rejectUnauthorized !== false,
    },
    (socket: TLSSocket) => {
      prepareSocket(socket);
      const peerCertificate = requestCert ? verifiedPeerCertificate(socket) : undefined;
      onConnection(socket, {
        transport: 'tls',
        remoteAddress: socket.remoteAddress,
        ...(peerCertificate ? { peerCertificate } : {}),
      });
    },
  );
  server.on('tlsClientError', () => {
    // A failed handshake concerns that socket only.
  });
  const boundPort = await listen(server, listenHost, options.port ?? 0);
  return {
    kind: 'tls',
    host: listenHost,
    port: boundPort,
    url: `mqtts://${formatHost(listenHost)}:${boundPort}`,
    close: () => closeServer(server),
  };
}

/** A WebSocket as a duplex byte stream; everything written in one tick goes out as one binary frame. */
class WebSocketStream extends Duplex {
  private readonly socket: WebSocket;

  constructor(socket: WebSocket) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        // MQTT-6.0.0-1: a data frame that is not binary closes the connection.
        socket.close(1003, 'MQTT needs binary frames');
        this.destroy();
        return;
      }
      const chunk = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      this.push(chunk);
    });
    socket.on('close', () => {
      this.push(null);
      this.destroy();
    });
    socket.on('error', (error) => this.destroy(error));
  }

  override _read(): void {
    // Data is pushed as frames arrive.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send(chunk, callback);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.send(
      chunks.length === 1
        ? (chunks[0] as { chunk: Buffer }).chunk
        : Buffer.concat(chunks.map((entry) => entry.chunk)),
      callback,
    );
  }

  private send(data: Buffer, callback: (error?: Error | null) => void): void {
    if (this.socket.readyState !== 1 /* OPEN */) {
      callback();
      return;
    }
    this.socket.send(data, { binary: true }, (error) => callback(error ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.socket.readyState === 1) this.socket.close(1000);
    callback();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (this.socket.readyState === 0 || this.socket.readyState === 1) this.socket.terminate();
    callback(error);
  }
}

export async function listenWebSocket(
  host: string,
  options: WebSocketListenerOptions,
  onConnection: ConnectionHandler,
): Promise<Listener> {
  const listenHost = options.host ?? host;
  const path = options.path ?? '/mqtt';
  const httpServer = createHttpServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' });
    response.end('MQTT over WebSocket: connect with the mqtt subprotocol\n');
  });
  const webSocketServer = new WebSocketServer({
    server: httpServer,
    path,
    perMessageDeflate: false,
    handleProtocols: (protocols) => {
      for (const candidate of ['mqtt', 'mqttv3.1']) if (protocols.has(candidate)) return candidate;
      return false;
    },
  });
  webSocketServer.on('error', () => {
    // Errors of the underlying HTTP server surface on listen.
  });
  webSocketServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const raw = request.socket;
    raw.setNoDelay(true);
    onConnection(new WebSocketStream(socket), { transport: 'ws', remoteAddress: raw.remoteAddress });
  });
  const boundPort = await listen(httpServer, listenHost, options.port ?? 0);
  return {
    kind: 'ws',
    host: listenHost,
    port: boundPort,
    url: `ws://${formatHost(listenHost)}:${boundPort}${path}`,
    close: async () => {
      for (const client of webSocketServer.clients) client.terminate();
      await new Promise<void>((resolve) => webSocketServer.close(() => resolve()));
      httpServer.closeAllConnections();
      await closeServer(httpServer);
    },
  };
}
