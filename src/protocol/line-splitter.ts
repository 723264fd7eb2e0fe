/**
 * Incremental framing: bytes in any segmentation become whole lines. The state is the unfinished
 * tail of the last chunk; a line that grows past the cap is answered once and then skipped up to its
 * line feed without being buffered, so a peer cannot grow our memory by never sending `\n`.
 */
import { WIRE } from './types.js';

export interface LineSink {
  /**
   * A whole line: `bytes[start, end)`, without `\n` and without a `\r` right before it
   * ([P-LINE-2]). The bytes are lent for the call only (they are the socket's chunk, or a buffer
   * reused for the next line): a sink keeps what it needs as strings, and decodes nothing else.
   */
  line(bytes: Buffer, start: number, end: number): void;
  /** [P-LINE-4] a line passed the cap; called once per such line. */
  overflow(): void;
}

export class LineSplitter {
  readonly maxLineBytes: number;
  #parts: Buffer[] = [];
  #partialBytes = 0;
  #discarding = false;

  /** @param maxLineBytes the longest line accepted, in bytes, not counting `\r\n` */
  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes held for an unfinished line. */
  get bufferedBytes(): number {
    return this.#partialBytes;
  }

  push(chunk: Buffer, sink: LineSink): void {
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(WIRE.LF, start);
      if (lf < 0) break;
      if (this.#discarding) {
        this.#discarding = false;
      } else {
        this.#finishLine(chunk, start, lf, sink);
      }
      start = lf + 1;
    }
    if (start >= chunk.length || this.#discarding) return;
    const rest = chunk.length - start;
    // +1: a final `\r` may still turn out to belong to a `\r\n`
    if (this.#partialBytes + rest > this.maxLineBytes + 1) {
      this.#parts = [];
      this.#partialBytes = 0;
      this.#discarding = true;
      sink.overflow();
      return;
    }
    // copy: a view would pin the whole chunk for as long as the line stays unfinished
    this.#parts.push(Buffer.from(chunk.subarray(start)));
    this.#partialBytes += rest;
  }

  #finishLine(chunk: Buffer, start: number, lf: number, sink: LineSink): void {
    let end = lf;
    let bytes: Buffer = chunk;
    if (this.#parts.length > 0) {
      this.#parts.push(chunk.subarray(start, lf));
      bytes = Buffer.concat(this.#parts, this.#partialBytes + (lf - start));
      start = 0;
      end = bytes.length;
      this.#parts = [];
      this.#partialBytes = 0;
    }
    if (end > start && bytes[end - 1] === WIRE.CR) end -= 1;
    if (end - start > this.maxLineBytes) {
      sink.overflow();
      return;
    }
    sink.line(bytes, start, end);
  }
}
