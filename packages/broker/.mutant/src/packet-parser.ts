/**
 * mqtt-packet's parser, made strict where MQTT 5 requires it: every UTF-8 Encoded String must be
 * well-formed UTF-8 (no surrogates) without U+0000 (MQTT-1.5.4-1, -2), else the packet is malformed.
 * mqtt-packet decodes strings leniently (replacement characters), so the check runs on the raw bytes
 * before decoding, in a subclass: the shared mqtt-packet module (also used by MQTT.js) is not modified.
 */
import { isUtf8 } from 'node:buffer';
import mqttPacket from 'mqtt-packet';
import type { Parser } from 'mqtt-packet';

/** The parts of mqtt-packet's Parser internals the strict string decoder uses. */
interface ParserInternals {
  _list: { length: number; slice(start: number, end: number): Buffer; toString(encoding: 'utf8', start: number, end: number): string };
  _pos: number;
  packet: { length: number };
  _parseNum(): number;
  _emitError(error: Error): void;
  parser(options: object): Parser;
}

type ParserConstructor = new () => ParserInternals;

const BaseParser = (mqttPacket.parser() as unknown as { constructor: ParserConstructor }).constructor;

class StrictParser extends BaseParser {
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
}

/** A new strict parser (starting as MQTT 5 until the CONNECT packet says otherwise). */
export function createPacketParser(): Parser {
  return new StrictParser().parser({ protocolVersion: 5 });
}
