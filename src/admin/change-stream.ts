/**
 * `GET /v1/changes`: the change feed as server-sent events, one `change` event per committed
 * change, with `id: <epoch>.<seq>` so that a browser's EventSource (or any client sending
 * `Last-Event-ID`, or `?after=`) resumes where it left off. When the changes after that position
 * are no longer all known (older than the window, or from before a restart), a `reset` event says
 * so first: the client should read the state again; the same event later in the stream means
 * changes were lost since the last one (a PostgreSQL server that fell behind its database). A client that does not keep up is dropped
 * rather than buffered without bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeEvent, ChangeFeed } from '../store/change-log.js';
import { BadRequest } from './parameters.js';

/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** Unsent bytes beyond this mean the client is not reading: it is disconnected. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

function positionOf(raw: string | undefined): { epoch: string; seq: number } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const match = /^([0-9a-z-]{1,64})\.([0-9]{1,15})$/.exec(raw);
  if (match === null) throw new BadRequest('Last-Event-ID', 'an event id is <epoch>.<seq>, as sent in the stream');
  return { epoch: match[1] as string, seq: Number(match[2]) };
}

export function streamChanges(feed: ChangeFeed, request: IncomingMessage, response: ServerResponse, params: URLSearchParams): void {
  const header = request.headers['last-event-id'];
  const after = positionOf(params.get('after') ?? (typeof header === 'string' ? header : undefined));
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  // the first bytes go out at once, so the client knows the stream is open
  response.write(': package-indexer change feed\n\n');
  const send = (events: readonly ChangeEvent[]): void => {
    let text = '';
    for (const { seq, command, name, dependencies } of events) {
      text += `id: ${feed.epoch}.${seq}\nevent: change\ndata: ${JSON.stringify({ seq, command, name, dependencies })}\n\n`;
    }
    response.write(text);
    if (response.writableLength > MAX_BUFFERED_BYTES) response.destroy();
  };
  const reset = (message: string): void => {
    response.write(`event: reset\ndata: ${JSON.stringify({ epoch: feed.epoch, message })}\n\n`);
  };
  const subscription = feed.subscribe(after, send, () => reset('some changes since the last event were lost; read the index again'));
  if (!subscription.resumed) reset('the changes after the position asked for are no longer known; read the index again');
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  response.once('close', () => {
    clearInterval(heartbeat);
    subscription.close();
  });
}
