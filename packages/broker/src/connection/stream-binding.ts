/**
 * A stream's events, handed to the connection it belongs to. The listeners are shared functions, not
 * per-connection closures: the connection is found through a symbol on the stream.
 */
import type { Duplex } from 'node:stream';
import type { DisconnectCause } from '../types.js';

/** What a stream's events go to. */
export interface StreamOwner {
  receiveData(chunk: Buffer): void;
  close(cause: DisconnectCause, reasonCode: number | undefined): void;
  streamError(error: Error): void;
  streamClosed(): void;
  writeDrained(): void;
}

const OWNER = Symbol('mqtt-agents.connection');

type ServedStream = Duplex & { [OWNER]?: StreamOwner };

function onStreamData(this: ServedStream, chunk: Buffer): void {
  this[OWNER]?.receiveData(chunk);
}

function onStreamEnd(this: ServedStream): void {
  this[OWNER]?.close('connection-lost', undefined);
}

function onStreamError(this: ServedStream, error: Error): void {
  this[OWNER]?.streamError(error);
}

function onStreamClose(this: ServedStream): void {
  this[OWNER]?.streamClosed();
}

function onStreamDrain(this: ServedStream): void {
  this[OWNER]?.writeDrained();
}

/** Send a stream's data, end, error, close and drain events to its owner. */
export function bindStream(stream: Duplex, owner: StreamOwner): void {
  (stream as ServedStream)[OWNER] = owner;
  stream.on('data', onStreamData);
  stream.on('end', onStreamEnd);
  stream.on('error', onStreamError);
  stream.on('close', onStreamClose);
  stream.on('drain', onStreamDrain);
}
