/**
 * Real syslog receivers for the tests: UDP datagrams (node:dgram), octet-counted TCP frames and
 * line feed framed unix stream frames (node:net). Each parses what it receives as RFC 5424 and
 * keeps what did not parse, so a test can demand that nothing was malformed.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from './server-harness.js';

export interface SyslogRecord {
  readonly priority: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly structuredData: string;
  /** MSG, which carries the pino record as JSON. */
  readonly log: Record<string, unknown>;
}

// <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA SP MSG
const RFC_5424 = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*\])+) (.*)$/s;

/** The record a frame holds, or undefined when it is not RFC 5424 with a JSON message. */
export function parseSyslog(frame: string): SyslogRecord | undefined {
  const match = RFC_5424.exec(frame);
  if (match === null) return undefined;
  const [, priority, version, timestamp, hostname, appName, procId, msgId, structuredData, message] = match as unknown as string[];
  try {
    const log: unknown = JSON.parse(message!);
    if (typeof log !== 'object' || log === null) return undefined;
    return {
      priority: Number(priority),
      version: Number(version),
      timestamp: timestamp!,
      hostname: hostname!,
      appName: appName!,
      procId: procId!,
      msgId: msgId!,
      structuredData: structuredData!,
      log: log as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}

export class SyslogReceiver {
  readonly records: SyslogRecord[] = [];
  /** Frames that were not RFC 5424 records, or broke the framing. */
  readonly malformed: string[] = [];
  /** Stream connections accepted so far. */
  connections = 0;

  constructor(
    /** The --log-destination that reaches this receiver. */
    readonly destination: string,
    readonly close: () => Promise<void>,
  ) {}

  accept(frame: string): void {
    const record = parseSyslog(frame);
    if (record === undefined) this.malformed.push(frame);
    else this.records.push(record);
  }

  /** The first record whose pino `msg` is this one, once it has arrived. */
  async waitForMessage(msg: string, timeoutMs = 10_000): Promise<SyslogRecord> {
    await waitFor(() => this.records.some((record) => record.log.msg === msg), timeoutMs, `syslog record "${msg}"`);
    return this.records.find((record) => record.log.msg === msg) as SyslogRecord;
  }
}

export async function udpReceiver(t: TestContext): Promise<SyslogReceiver> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const close = (): Promise<void> => new Promise((resolve) => socket.close(() => resolve()));
  const receiver = new SyslogReceiver(`udp://127.0.0.1:${socket.address().port}`, close);
  // one datagram is one record: no framing
  socket.on('message', (datagram) => receiver.accept(datagram.toString('utf8')));
  t.after(() => close().catch(() => undefined));
  return receiver;
}

/** RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG, repeated; MSG-LEN counts bytes. */
function octetCountedFrames(receiver: SyslogReceiver): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const space = pending.indexOf(0x20);
      if (space < 0) return;
      const length = /^[1-9]\d{0,8}$/.test(pending.subarray(0, space).toString('latin1')) ? Number(pending.subarray(0, space).toString('latin1')) : Number.NaN;
      if (Number.isNaN(length)) {
        receiver.malformed.push(pending.toString('utf8'));
        pending = Buffer.alloc(0);
        return;
      }
      if (pending.length < space + 1 + length) return;
      receiver.accept(pending.subarray(space + 1, space + 1 + length).toString('utf8'));
      pending = pending.subarray(space + 1 + length);
    }
  };
}

/** Non-transparent framing: each record ends with a line feed. */
function lineFeedFrames(receiver: SyslogReceiver): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
      receiver.accept(pending.slice(0, at));
      pending = pending.slice(at + 1);
    }
  };
}

async function streamReceiver(
  t: TestContext,
  listen: (server: net.Server) => Promise<string>,
  framing: (receiver: SyslogReceiver) => (chunk: Buffer) => void,
): Promise<SyslogReceiver> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    receiver.connections++;
    sockets.add(socket);
    socket.on('data', framing(receiver));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  const receiver = new SyslogReceiver(await listen(server), close);
  t.after(() => (server.listening ? close() : undefined));
  return receiver;
}

/** A TCP receiver on 127.0.0.1; port 0 picks a free one, or give the port of a receiver that was closed. */
export function tcpReceiver(t: TestContext, port = 0): Promise<SyslogReceiver> {
  return streamReceiver(
    t,
    (server) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve(`tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`));
      }),
    octetCountedFrames,
  );
}

export function unixReceiver(t: TestContext): Promise<SyslogReceiver> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-syslog-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'log.sock');
  return streamReceiver(
    t,
    (server) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => resolve(`unix://${socketPath}`));
      }),
    lineFeedFrames,
  );
}
