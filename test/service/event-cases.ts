import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertProblem } from './api-client.ts';
import type { SuiteContext } from './api-suite.ts';
import { collectEvents, type ReceivedEvent } from './sse-client.ts';

const finished = (runId: string) => (events: readonly ReceivedEvent[]) =>
  events.some((e) => {
    const change = JSON.parse(e.data);
    return (
      change.runId === runId &&
      change.atom === null &&
      ['SUCCESS', 'REVERTED', 'FAILURE'].includes(change.state)
    );
  });

const describeEvents = (events: readonly ReceivedEvent[]): string[] =>
  events.map((e) => {
    const change = JSON.parse(e.data);
    return `${e.event} ${change.atom === null ? '' : `${change.atom} `}${change.state}`;
  });

/** Server-Sent Events of runs, on the suite's service. */
export function eventCases(context: () => SuiteContext): void {
  it("streams a run's changes from its start, in order, ending with its final state", async () => {
    const { api, service, tokens } = context();
    const posted = await api.post('/v1/runs', {
      flow: 'provision',
      inputs: { size: 4, serverName: 'sse', failBoot: true },
    });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    const auth = { Authorization: `Bearer ${tokens.read}` };
    const url = `${service.url}${posted.body.links.events}`;
    const { status, events } = await collectEvents(url, auth, finished(posted.body.id));
    assert.equal(status, 200);
    const lines = describeEvents(events);
    assert.equal(lines[0], 'run PENDING');
    assert.equal(lines.at(-1), 'run REVERTED');
    const order = [
      'atom create-volume SUCCESS',
      'atom boot-server FAILURE',
      'atom create-volume REVERTED',
    ];
    const positions = order.map((line) => lines.indexOf(line));
    assert.ok(
      positions.every((p) => p >= 0),
      lines.join(' | '),
    );
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
    );
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);
  });

  it("streams a running atom's progress reports as they are made, not only its end", async () => {
    const { api, service, tokens } = context();
    const posted = await api.post('/v1/runs', {
      flow: 'slow-report',
      inputs: { steps: 3, stepMs: 300 },
    });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    const auth = { Authorization: `Bearer ${tokens.read}` };
    const url = `${service.url}${posted.body.links.events}`;
    const { events } = await collectEvents(url, auth, finished(posted.body.id));
    const gather = events
      .map((e) => JSON.parse(e.data))
      .filter((change) => change.atom === 'gather-data')
      .map((change) => `${change.state} ${Math.round(change.progress * 3)}/3`);
    for (const step of ['RUNNING 1/3', 'RUNNING 2/3', 'SUCCESS 3/3']) {
      assert.ok(gather.includes(step), `${step} in ${gather.join(' | ')}`);
    }
  });

  it('continues behind Last-Event-ID without losing or repeating an event', async () => {
    const { api, service, tokens } = context();
    const posted = await api.post('/v1/runs', { flow: 'review', inputs: { quantity: 2 } });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    const auth = { Authorization: `Bearer ${tokens.read}` };
    const url = `${service.url}${posted.body.links.events}`;
    const whole = await collectEvents(url, auth, finished(posted.body.id));
    const cut = 2;
    const rest = await collectEvents(
      url,
      { ...auth, 'Last-Event-ID': whole.events[cut]?.id as string },
      finished(posted.body.id),
    );
    assert.deepEqual(rest.events, whole.events.slice(cut + 1));
  });

  it('streams the changes of every run from now on GET /v1/events', async () => {
    const { api, service, tokens } = context();
    const auth = { Authorization: `Bearer ${tokens.read}` };
    let runId = '';
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const streaming = collectEvents(
      `${service.url}/v1/events`,
      auth,
      (events) => runId !== '' && finished(runId)(events),
      () => opened(),
    );
    // The stream begins at the feed's head as of the response's start: a run posted after
    // that is certainly behind it.
    await open;
    const posted = await api.post('/v1/runs', { flow: 'review', inputs: { quantity: 1 } });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    runId = posted.body.id;
    const { status, events } = await streaming;
    assert.equal(status, 200);
    const ofRun = events.filter((e) => JSON.parse(e.data).runId === runId);
    assert.equal(describeEvents(ofRun).at(-1), 'run SUCCESS');
  });

  it('refuses a Last-Event-ID it did not make, an unknown run and a missing token', async () => {
    const { api, tokens } = context();
    const reader = api.withHeaders({ Authorization: `Bearer ${tokens.read}` });
    const posted = await api.post('/v1/runs', { flow: 'review', inputs: { quantity: 1 } });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    assertProblem(
      await reader.request('GET', `/v1/runs/${posted.body.id}/events`, undefined, {
        'Last-Event-ID': 'nonsense',
      }),
      400,
      'invalid-argument',
    );
    assertProblem(await reader.get('/v1/runs/no-such-run/events'), 404, 'run-not-found');
    assertProblem(
      await api.withHeaders({ Authorization: '' }).get('/v1/events'),
      401,
      'unauthorized',
    );
  });
}
