// Serves model files over HTTP with Range support, logging every request (its Range header and
// the bytes actually sent) and injecting the faults a real network and real servers produce: a
// dropped connection mid-file, wrong bytes, an error status, a stall, slow delivery, no Range
// support. One handler serves the unit tests (a loopback node:http server), the e2e tests (a
// `vite preview` middleware) and the dev server's tiny models (tools/dev-models-plugin.ts).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** answer with this status and no body */
  | { kind: 'status'; status: number }
  /** send this many body bytes, then cut the connection */
  | { kind: 'drop'; afterBytes: number }
  /** send the byte at this file offset flipped */
  | { kind: 'corrupt'; at: number }
  /** send this many body bytes, then nothing for `ms` */
  | { kind: 'stall'; afterBytes: number; ms: number }
  /** ignore the Range header: 200 with the whole file */
  | { kind: 'no-range' };

export interface ServedRequest {
  path: string;
  method: string;
  /** the request's Range header */
  range: string | undefined;
  status: number;
  /** body bytes written to the connection */
  bytes: number;
}

export interface ModelServerOptions {
  /** path (e.g. "/models/flux.gguf") -> content */
  files: Map<string, Uint8Array>;
  /** body bytes per second (slow delivery); unlimited when absent */
  bytesPerSecond?: number;
}

const PIECE = 16 * 1024;

export class ModelFileHandler {
  readonly log: ServedRequest[] = [];
  /** the faults of a request, decided per request (e.g. only the first data request of a file) */
  faults: (request: { path: string; range: string | undefined; index: number }) => Fault[] = () => [];

  constructor(readonly options: ModelServerOptions) {}

  /** Bytes of `path` sent so far, over every request. */
  bytesServed(path: string): number {
    return this.log.filter((entry) => entry.path === path).reduce((sum, entry) => sum + entry.bytes, 0);
  }

  /** Handles the request if it is for one of the files; false otherwise (let the next handler try). */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const content = this.options.files.get(path);
    if (!content) return false;
    const range = request.headers.range;
    const entry: ServedRequest = { path, method: request.method ?? 'GET', range, status: 0, bytes: 0 };
    const faults = this.faults({ path, range, index: this.log.length });
    this.log.push(entry);
    void this.serve(request, response, content, entry, faults);
    return true;
  }

  private async serve(request: IncomingMessage, response: ServerResponse, content: Uint8Array, entry: ServedRequest, faults: Fault[]): Promise<void> {
    const status = faults.find((fault) => fault.kind === 'status');
    if (status) return this.finish(response, entry, status.status, {});
    const span = faults.some((fault) => fault.kind === 'no-range') ? undefined : parseRange(entry.range, content.length);
    if (span === 'unsatisfiable') return this.finish(response, entry, 416, { 'Content-Range': `bytes */${content.length}` });
    const [start, end] = span ?? [0, content.length];
    const headers = {
      'Content-Length': String(end - start),
      'Accept-Ranges': 'bytes',
      'Access-Control-Expose-Headers': 'Content-Range, Content-Length',
      ...(span ? { 'Content-Range': `bytes ${start}-${end - 1}/${content.length}` } : {}),
    };
    entry.status = span ? 206 : 200;
    response.writeHead(entry.status, headers);
    if (request.method === 'HEAD') return void response.end();
    const body = content.slice(start, end);
    for (const fault of faults) if (fault.kind === 'corrupt' && fault.at >= start && fault.at < end) body[fault.at - start] ^= 0xff;
    await this.send(response, body, entry, faults);
  }

  private async send(response: ServerResponse, body: Uint8Array, entry: ServedRequest, faults: Fault[]): Promise<void> {
    const drop = faults.find((fault) => fault.kind === 'drop');
    const stall = faults.find((fault) => fault.kind === 'stall');
    let stalled = false;
    for (let at = 0; at < body.length; ) {
      if (response.destroyed) return;
      const limit = Math.min(body.length, drop?.afterBytes ?? Infinity, stall && !stalled ? stall.afterBytes : Infinity);
      if (at >= limit) {
        if (drop && at >= drop.afterBytes) return void response.socket?.destroy();
        stalled = true;
        await pause(stall!.ms);
        continue;
      }
      const piece = body.subarray(at, Math.min(limit, at + PIECE));
      // Handed to the connection before the next step, so a drop cuts exactly at `afterBytes`.
      await new Promise<void>((resolve) => response.write(piece, () => resolve()));
      entry.bytes += piece.length;
      at += piece.length;
      if (this.options.bytesPerSecond) await pause((1000 * piece.length) / this.options.bytesPerSecond);
    }
    response.end();
  }

  private finish(response: ServerResponse, entry: ServedRequest, status: number, headers: Record<string, string>): void {
    entry.status = status;
    response.writeHead(status, headers);
    response.end();
  }
}

/** [start, end) of `Range: bytes=a-b` / `bytes=a-`; undefined without one. */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] === '' ? size : Math.min(size, Number(match[2]) + 1);
  return start >= size || end <= start ? 'unsatisfiable' : [start, end];
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback HTTP server around a handler; `url(path)` addresses its files. */
export async function startModelServer(handler: ModelFileHandler): Promise<{ server: Server; url(path: string): string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (!handler.handle(request, response)) {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
