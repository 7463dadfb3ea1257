import { afterAll, beforeAll, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../src/vitest.js';
import { RawClient, rawPacket, utf8Field, varint, disconnectReason } from './helpers.js';
let broker: TestBroker;
beforeAll(async () => { broker = await startTestBroker(); });
afterAll(async () => { await broker.close(); });
it('probe', async () => {
  for (const [name, bytes] of [
    ['5-byte remaining length', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])],
    ['subscribe empty', rawPacket(0x82, Buffer.concat([Buffer.from([0, 1]), varint(0)]))],
    ['filter a/#/b', rawPacket(0x82, Buffer.concat([Buffer.from([0, 1]), varint(0), utf8Field('a/#/b'), Buffer.from([1])]))],
    ['filter a+/b', rawPacket(0x82, Buffer.concat([Buffer.from([0, 1]), varint(0), utf8Field('a+/b'), Buffer.from([1])]))],
    ['rh 3', rawPacket(0x82, Buffer.concat([Buffer.from([0, 1]), varint(0), utf8Field('a/b'), Buffer.from([0x31])]))],
    ['options reserved bits', rawPacket(0x82, Buffer.concat([Buffer.from([0, 1]), varint(0), utf8Field('a/b'), Buffer.from([0xc1])]))],
    ['surrogate topic', rawPacket(0x30, Buffer.concat([utf8Field(Buffer.from([0x61, 0xed, 0xa0, 0x80])), varint(0), Buffer.from('x')]))],
    ['unknown property', rawPacket(0x30, Buffer.concat([utf8Field('a/b'), varint(2), Buffer.from([0x7f, 0x00]), Buffer.from('x')]))],
    ['connect property in publish', rawPacket(0x30, Buffer.concat([utf8Field('a/b'), varint(5), Buffer.from([0x11, 0, 0, 0, 1]), Buffer.from('x')]))],
    ['qos0 dup', rawPacket(0x38, Buffer.concat([utf8Field('a/b'), varint(0), Buffer.from('x')]))],
    ['qos1 packet id 0', rawPacket(0x32, Buffer.concat([utf8Field('a/b'), Buffer.from([0, 0]), varint(0), Buffer.from('x')]))],
    ['unsubscribe empty', rawPacket(0xa2, Buffer.concat([Buffer.from([0, 1]), varint(0)]))],
    ['pubrel bad flags', Buffer.from([0x60, 0x02, 0x00, 0x01])],
    ['auth packet', Buffer.from([0xf0, 0x00])],
    ['pingreq with body', Buffer.from([0xc0, 0x01, 0x00])],
    ['disconnect invalid reason', Buffer.from([0xe0, 0x01, 0x03])],
  ] as const) {
    const { client } = await RawClient.connect(broker.url);
    client.write(bytes);
    const r = await disconnectReason(client, 1000).catch(() => 'open');
    console.log(name, '=>', typeof r === 'number' ? '0x' + r.toString(16) : r, client.describe());
  }
});
