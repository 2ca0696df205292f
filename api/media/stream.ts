/**
 * What the API does to bytes in passing (decision 0041): an upload counted and cut off past its
 * limit while it streams, its first bytes kept for the image's dimensions; a download sliced to a
 * byte range.
 */
import { imageSize } from 'image-size';

/** Enough of an image's start for its dimensions (a JPEG's frame header can follow large metadata). */
const PREFIX_MAX = 256 * 1024;

export class UploadTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the file is larger than the limit of ${limit} bytes`);
    this.name = 'UploadTooLarge';
  }
}

export interface Counted {
  stream: ReadableStream<Uint8Array>;
  /** Bytes that went through so far. */
  bytes(): number;
  /** The first bytes (up to 256 KiB). */
  prefix(): Uint8Array;
  /** Whether the stream was cut off past the limit (whatever its reader made of the error). */
  overLimit(): boolean;
}

/** `source` passed through, erroring with UploadTooLarge as soon as more than `limit` bytes went by. */
export function counted(source: ReadableStream<Uint8Array>, limit: number): Counted {
  let bytes = 0;
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let over = false;
  const stream = source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > limit) {
          over = true;
          controller.error(new UploadTooLarge(limit));
          return;
        }
        if (headBytes < PREFIX_MAX) {
          const part = chunk.subarray(0, PREFIX_MAX - headBytes);
          head.push(part.slice());
          headBytes += part.byteLength;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return { stream, bytes: () => bytes, prefix: () => Buffer.concat(head), overLimit: () => over };
}

/** An image's width and height from its first bytes, or null when they do not say (not an image, cut too short). */
export function dimensions(prefix: Uint8Array): { w: number; h: number } | null {
  try {
    const { width, height, orientation } = imageSize(prefix);
    if (!width || !height) return null;
    // EXIF orientations 5–8 turn the picture a quarter: shown, its sides swap.
    return orientation && orientation >= 5 ? { w: height, h: width } : { w: width, h: height };
  } catch {
    return null;
  }
}

/** A satisfiable byte range of a `size`-byte body: first and last byte, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * A `Range` header against a body of `size` bytes: null to serve the whole body (no header, a
 * unit other than bytes, several ranges, or syntax we do not take: all allowed by RFC 9110 §14.2),
 * `'unsatisfiable'` for a range wholly past the end (416), else the one range.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  const [a, b] = [m[1]!, m[2]!];
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** The bytes `range.start`..`range.end` of `source`; the rest of it is cancelled once the slice is out. */
export function sliced(source: ReadableStream<Uint8Array>, range: ByteRange): ReadableStream<Uint8Array> {
  let offset = 0;
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const from = offset;
      offset += value.byteLength;
      const lo = Math.max(range.start - from, 0);
      const hi = Math.min(range.end + 1 - from, value.byteLength);
      if (hi > lo) controller.enqueue(value.subarray(lo, hi));
      if (offset > range.end) {
        controller.close();
        await reader.cancel();
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
