/**
 * mqtt-packet's parser, adapted for a broker with many connections:
 *
 * - strict where MQTT 5 requires it: every UTF-8 Encoded String must be well-formed UTF-8 (no
 *   surrogates) without U+0000 (MQTT-1.5.4-1, -2), else the packet is malformed. mqtt-packet decodes
 *   strings leniently (replacement characters), so the check runs on the raw bytes before decoding;
 * - lighter: a plain BufferList instead of a BufferListStream (a whole Duplex per connection), the
 *   state table shared on the prototype, packets and errors handed to one receiver instead of an
 *   EventEmitter, and the CONNECT packet not kept as parser settings.
 *
 * It is a subclass: the shared mqtt-packet module (also used by MQTT.js in the same process) is untouched.
 */
import { isUtf8 } from 'node:buffer';
import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';

/** Who gets the parsed packets and parse errors. */
export interface PacketReceiver {
  receivePacket(packet: Packet): void;
  receiveParseError(error: Error): void;
}

/** The parts of mqtt-packet's Parser internals used here. */
interface BufferListLike {
  length: number;
  slice(start: number, end: number): Buffer;
}

interface ParserInternals {
  _list: BufferListLike;
  _pos: number;
  _stateCounter: number;
  error: Error | null;
  packet: { length: number; cmd: string | null; protocolVersion?: number };
  settings: { protocolVersion?: number; bridgeMode?: boolean };
  _parseNum(): number;
  _emitError(error: Error): void;
  parse(buffer: Buffer): number;
}

type ParserConstructor = new () => ParserInternals;

const sample = mqttPacket.parser() as unknown as ParserInternals & {
  constructor: ParserConstructor;
  _list: { constructor: { BufferList: new () => BufferListLike } };
  packet: { constructor: new () => ParserInternals['packet'] };
};
const BaseParser = sample.constructor;
const BufferList = sample._list.constructor.BufferList;
const Packet = sample.packet.constructor;

const STATES = Object.freeze(['_parseHeader', '_parseLength', '_parsePayload', '_newPacket']);
const SETTINGS_V5 = Object.freeze({ protocolVersion: 5 });
const SETTINGS_V4 = Object.freeze({ protocolVersion: 4 });
const SETTINGS_V3 = Object.freeze({ protocolVersion: 3 });

export class PacketParser extends BaseParser {
  receiver: PacketReceiver | undefined = undefined;

  /** Replaces mqtt-packet's static `parser(options)` initialiser (called on the instance). */
  static parser(this: PacketParser): PacketParser {
    this.settings = SETTINGS_V5;
    this._resetState();
    return this;
  }

  _resetState(): void {
    this.packet = new Packet();
    this.error = null;
    this._list = new BufferList();
    this._stateCounter = 0;
  }

  /** The parser reports through emit('packet' | 'error'): hand both to the receiver directly. */
  emit(event: string, value: unknown): boolean {
    const receiver = this.receiver;
    if (!receiver) return false;
    if (event === 'packet') {
      const packet = value as Packet;
      if (packet.cmd === 'connect') {
        // mqtt-packet keeps the CONNECT packet as its settings; keep only the protocol version.
        const version = (this.settings as { protocolVersion?: number }).protocolVersion;
        this.settings = version === 5 ? SETTINGS_V5 : version === 3 ? SETTINGS_V3 : SETTINGS_V4;
      }
      receiver.receivePacket(packet);
    } else if (event === 'error') {
      receiver.receiveParseError(value as Error);
    }
    return true;
  }

  _parseString(): string | null {
    const length = this._parseNum();
    const end = length + this._pos;
    if (length === -1 || end > this._list.length || end > this.packet.length) return null;
    const bytes = this._list.slice(this._pos, end);
    if (!isUtf8(bytes) || bytes.includes(0)) {
      this._emitError(new Error('malformed UTF-8 string'));
      return null;
    }
    this._pos = end;
    return bytes.toString('utf8');
  }

  /** Length of the packet being received (remaining length), or -1 before it is known. */
  get pendingLength(): number {
    return this.packet.length;
  }

  /** True when part of a packet has arrived (its first byte at least) and the rest has not. */
  get midPacket(): boolean {
    return this._stateCounter !== 0 || this._list.length > 0;
  }

  /** Protocol version of a CONNECT being parsed (for answering a malformed one). */
  get pendingProtocolVersion(): number | undefined {
    return this.packet.protocolVersion;
  }
}
(PacketParser.prototype as unknown as { _states: readonly string[] })._states = STATES;

/** A new parser for one connection (MQTT 5 until its CONNECT says otherwise). */
export function createPacketParser(receiver: PacketReceiver): PacketParser {
  const parser = new PacketParser();
  parser.receiver = receiver;
  (parser as unknown as { parser(): PacketParser }).parser();
  return parser;
}
