// Model files on a web server: read with Range requests where the server supports them (random
// access, so a loader can fetch just the tensors it needs), or as one sequential download from a
// fetch Response.

import { EngineError } from '../errors';
import type { RandomAccessSource, SequentialSource } from './byte-source';
import { streamSource } from './byte-source';

const NETWORK_ACTION = 'Check the internet connection and try again; if it keeps failing, the server may be down.';

type Fetch = typeof fetch;

/**
 * Opens `url` for random access. One probe request learns the file size and confirms that the
 * server answers Range requests; each `read` is then one Range request.
 */
export async function httpRangeSource(url: string, fetchBytes: Fetch = fetch): Promise<RandomAccessSource> {
  const probe = await rangeRequest(fetchBytes, url, 0, 1);
  await probe.body?.cancel();
  // Cross-origin servers may not expose Content-Range; Content-Length of a HEAD is always readable.
  const size = totalSize(probe.headers.get('content-range')) ?? (await headLength(fetchBytes, url));
  if (size === undefined) throw networkError(url, 'the server did not say how large the file is');
  return {
    kind: 'random-access',
    name: url,
    size,
    read: async (offset, length) => {
      if (length === 0) return new Uint8Array(0);
      const response = await rangeRequest(fetchBytes, url, offset, length);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.length !== length) throw networkError(url, `asked for ${length} bytes at ${offset}, received ${bytes.length}`);
      return bytes;
    },
  };
}

/** A download read front to back as it arrives. */
export function responseSource(response: Response, name = response.url || 'download'): SequentialSource {
  if (!response.ok || !response.body) throw networkError(name, `the server answered ${response.status} ${response.statusText}`);
  return streamSource(response.body, name, contentLength(response.headers));
}

async function rangeRequest(fetchBytes: Fetch, url: string, offset: number, length: number): Promise<Response> {
  let response: Response;
  try {
    response = await fetchBytes(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
  } catch (error) {
    throw networkError(url, (error as Error).message);
  }
  if (response.status === 206) return response;
  await response.body?.cancel();
  if (response.ok) {
    throw new EngineError(
      'network',
      `${url}: the server ignores Range requests (answered ${response.status}), so the file cannot be read in pieces.`,
      'Download the file completely first, then open the downloaded copy.',
    );
  }
  throw networkError(url, `the server answered ${response.status} ${response.statusText}`);
}

async function headLength(fetchBytes: Fetch, url: string): Promise<number | undefined> {
  try {
    const response = await fetchBytes(url, { method: 'HEAD' });
    return response.ok ? contentLength(response.headers) : undefined;
  } catch {
    return undefined;
  }
}

/** The total in `Content-Range: bytes 0-0/12345`. */
function totalSize(contentRange: string | null): number | undefined {
  const match = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Content-Length counts the encoded body: usable only when the body is not compressed. */
function contentLength(headers: Headers): number | undefined {
  const encoding = headers.get('content-encoding');
  const length = headers.get('content-length');
  const bytes = Number(length ?? NaN);
  return Number.isSafeInteger(bytes) && (encoding === null || encoding === 'identity') ? bytes : undefined;
}

function networkError(url: string, detail: string): EngineError {
  return new EngineError('network', `Reading ${url} failed: ${detail}.`, NETWORK_ACTION);
}
