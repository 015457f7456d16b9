import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What a route answers. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A local HTTP server standing for a service that flow documents call, recording every request. */
export interface RecordingServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `127.0.0.1:PORT`, for an allow-list. */
  readonly host: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a server on a free port; `route` answers each request. Volumes are the usual fixture:
 * `POST /volumes` creates one (201 with its id), `DELETE /volumes/:id` removes it (204),
 * `POST /attachments` attaches (201), `POST /fail` answers 500, anything else 404.
 */
export async function startRecordingServer(
  route: (request: RecordedRequest) => Reply = volumes(),
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const reply = route(request);
      const json = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        ...(json === '' ? {} : { 'Content-Type': 'application/json' }),
        ...reply.headers,
      });
      res.end(json);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The volumes fixture described on {@link startRecordingServer}. */
export function volumes(): (request: RecordedRequest) => Reply {
  let next = 0;
  return (request) => {
    if (request.method === 'POST' && request.url.startsWith('/volumes')) {
      next += 1;
      const body = JSON.parse(request.body || '{}') as Record<string, unknown>;
      return { status: 201, body: { id: `vol-${next}`, ...body } };
    }
    if (request.method === 'DELETE' && request.url.startsWith('/volumes/')) return { status: 204 };
    if (request.method === 'POST' && request.url === '/attachments') {
      return { status: 201, body: { attached: JSON.parse(request.body || '{}') } };
    }
    if (request.url.startsWith('/fail')) return { status: 500, body: { error: 'broken' } };
    return { status: 404, body: { error: 'no such route' } };
  };
}
