/** One Server-Sent Event as a client sees it. */
export interface ReceivedEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * Opens an SSE stream over HTTP and collects its events until `done` says so (or the server
 * ends the stream); then disconnects. `opened` is called once the response has started. Also
 * returns the `retry` hints it saw.
 */
export async function collectEvents(
  url: string,
  headers: Record<string, string>,
  done: (events: readonly ReceivedEvent[]) => boolean,
  opened: () => void = () => undefined,
): Promise<{ status: number; events: ReceivedEvent[]; retries: number[] }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  opened();
  const events: ReceivedEvent[] = [];
  const retries: number[] = [];
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    return { status: response.status, events, retries };
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    while (!done(events)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        parseBlock(block, events, retries);
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    controller.abort();
    await reader.cancel().catch(() => undefined);
  }
  return { status: response.status, events, retries };
}

function parseBlock(block: string, events: ReceivedEvent[], retries: number[]): void {
  let id: string | undefined;
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry') retries.push(Number(value));
  }
  if (data.length > 0) events.push({ id, event, data: data.join('\n') });
}
